import { spawn } from "node:child_process";
import { resolve } from "node:path";
import type { z } from "zod";

/** A case that crashed or printed no result: its figures are missing, and the reason is shown instead. */
export class CaseFailure extends Error {}

/** A case still running after this long is stuck, not slow (the slowest full-size case takes a few minutes). */
const CASE_TIMEOUT_MS = 15 * 60_000;

/**
 * Runs `scripts/bench/<script>` in a fresh Node process (so its peak RSS is its own), passes its stderr through
 * as progress, and parses the last stdout line with the case's schema.
 */
export async function runCase<S extends z.ZodType>(
  script: string,
  args: readonly string[],
  schema: S,
): Promise<z.infer<S>> {
  const child = spawn(
    process.execPath,
    [resolve("bin/run-ts.js"), resolve("scripts/bench", script), ...args],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let lastError = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    process.stderr.write(chunk);
    // Keep the first line of the latest error so a crash can be named in the table.
    const error = chunk.split("\n").find((line) => /^\s*\w*Error\b/.test(line));
    if (error) lastError = error.trim();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), CASE_TIMEOUT_MS);
  const status = await new Promise<number | null>((done, fail) => {
    child.on("error", fail);
    child.on("close", (code, signal) => done(signal ? null : code));
  }).finally(() => clearTimeout(timer));
  if (status !== 0)
    throw new CaseFailure(
      `${script} ${args.join(" ")} exited ${status ?? "on a signal"}: ${lastError || "no error text"}`,
    );
  const last = stdout.trim().split("\n").at(-1) ?? "";
  const parsed = schema.safeParse(JSON.parse(last));
  if (!parsed.success)
    throw new CaseFailure(`${script} printed an unexpected result: ${parsed.error.message}`);
  return parsed.data;
}

/** Runs a project script that prints text, not a case result (e.g. scripts/make-exports.ts). */
export async function runScript(script: string, args: readonly string[]): Promise<void> {
  const child = spawn(process.execPath, [resolve("bin/run-ts.js"), resolve(script), ...args], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const status = await new Promise<number | null>((done, fail) => {
    child.on("error", fail);
    child.on("close", (code) => done(code));
  });
  if (status !== 0)
    throw new CaseFailure(`${script} exited ${status}: ${stderr.trim().split("\n")[0] ?? ""}`);
}

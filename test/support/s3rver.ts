import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

export interface RunningS3rver {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  /** A bucket that exists and is empty at start. */
  readonly bucket: string;
  stop(): Promise<void>;
}

const BUCKET = "bounce-radar-test";

/**
 * Runs in the child: starts s3rver on an ephemeral loopback port with the bucket pre-created, prints the
 * port, and exits when the parent closes stdin (so a crashed test run leaves no server behind).
 */
const CHILD_SCRIPT = `
const S3rver = require(process.argv[1]);
const [directory, bucket] = process.argv.slice(2);
new S3rver({ address: "127.0.0.1", port: 0, directory, silent: true, configureBuckets: [{ name: bucket }] })
  .run()
  .then(({ port }) => process.stdout.write(JSON.stringify({ port }) + "\\n"))
  .catch((e) => { console.error(e); process.exit(1); });
process.stdin.on("end", () => process.exit(0)).resume();
`;

/**
 * An s3rver in a child process, storing into a fresh temp folder that stop() removes. A child process
 * because s3rver signs ListObjectsV2 continuation tokens with DES, which Node's OpenSSL 3 only offers with
 * --openssl-legacy-provider (without it, listing past 1000 keys fails with InternalError).
 */
export async function startS3rver(): Promise<RunningS3rver> {
  const s3rverPath = createRequire(import.meta.url).resolve("s3rver");
  const directory = await mkdtemp(join(tmpdir(), "s3rver-"));
  const child = spawn(
    process.execPath,
    ["--openssl-legacy-provider", "-e", CHILD_SCRIPT, s3rverPath, directory, BUCKET],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  try {
    const port = await portOf(child, () => stderr);
    return {
      endpoint: `http://127.0.0.1:${port}`,
      bucket: BUCKET,
      async stop() {
        await stopChild(child);
        await rm(directory, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await stopChild(child);
    await rm(directory, { recursive: true, force: true });
    throw e;
  }
}

async function portOf(child: ChildProcess, stderr: () => string): Promise<number> {
  if (!child.stdout) throw new Error("s3rver child has no stdout");
  const lines = createInterface({ input: child.stdout });
  const exited = once(child, "exit").then(([code]) => {
    throw new Error(`s3rver exited (${String(code)}) before listening: ${stderr()}`);
  });
  const first = (async () => {
    for await (const line of lines) return (JSON.parse(line) as { port: number }).port;
    throw new Error(`s3rver printed no port: ${stderr()}`);
  })();
  try {
    return await Promise.race([first, exited]);
  } finally {
    exited.catch(() => undefined);
    lines.close();
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.stdin?.end();
  child.kill();
  await exited;
}

import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import * as z from "zod";
import { BounceInputSchema, classifyBounceCached } from "../../shared/domain/classify/index.ts";

/** One input line: the classifier's fields, with `code` also accepted as a numeric string; other fields pass through. */
const ClassifyLineSchema = BounceInputSchema.extend({
  code: z.coerce.number().int().min(200).max(599).optional(),
}).loose();

export interface ClassifyStreamResult {
  readonly lines: number;
  readonly bad: number;
}

/**
 * NDJSON in, NDJSON out, one output line per input line: the input's fields plus the classification, or
 * `{"line": N, "error": "..."}` for a line that is not a JSON object with a string `text`.
 */
export async function classifyStream(input: Readable, output: Writable): Promise<ClassifyStreamResult> {
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lines = 0;
  let bad = 0;
  for await (const raw of rl) {
    lines++;
    const out = classifyLine(raw, lines);
    if ("error" in out) bad++;
    if (!output.write(`${JSON.stringify(out)}\n`)) {
      await new Promise<void>((resolve) => output.once("drain", () => resolve()));
    }
  }
  return { lines, bad };
}

export function classifyLine(raw: string, lineNo: number): Record<string, unknown> {
  if (raw.trim() === "")
    return { line: lineNo, error: 'empty line: expected a JSON object with a "text" field' };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    return { line: lineNo, error: `not valid JSON: ${(e as Error).message}` };
  }
  const parsed = ClassifyLineSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `field "${issue.path.join(".")}"` : "line";
    const what =
      issue?.path[0] === "text" && issue.code === "invalid_type" ? "missing or not a string" : issue?.message;
    return { line: lineNo, error: `${where}: ${what ?? "invalid"}` };
  }
  return { ...parsed.data, ...classifyBounceCached(parsed.data) };
}

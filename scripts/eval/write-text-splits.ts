/**
 * Rewrites the `split` (and `inSimulation`) field of every text in eval/attribution-texts/texts.ndjson from the
 * fixed rule in attribution-texts.ts, after texts were added or the simulation's own wording changed:
 *
 *   node bin/run-ts.js scripts/eval/write-text-splits.ts
 */
import { readFileSync, writeFileSync } from "node:fs";
import { builtInRejectionTexts, renderTemplateExample } from "../../shared/simulation/b2b-history.ts";
import { computeSplits, DEFAULT_BANK } from "./attribution-texts.ts";

const lines = readFileSync(DEFAULT_BANK, "utf8")
  .split("\n")
  .filter((l) => l.trim())
  .map(
    (l) =>
      JSON.parse(l) as Record<string, unknown> & { id: string; platform: string; kind: string; text: string },
  );
const splits = computeSplits(lines as never, builtInRejectionTexts(), renderTemplateExample);
const out = lines.map((l) => {
  const { split: _split, inSimulation: _in, ...rest } = l;
  const s = splits.get(l.id);
  return JSON.stringify({
    ...rest,
    split: s?.split ?? "dev",
    ...(s?.inSimulation ? { inSimulation: true } : {}),
  });
});
writeFileSync(DEFAULT_BANK, `${out.join("\n")}\n`);
const score = out.filter((l) => l.includes('"split":"score"')).length;
console.log(`${out.length} texts: ${score} score, ${out.length - score} dev`);

/**
 * Scores the bounce classifier on labelled rejection texts: accuracy per expected category, overall, and on
 * the decisive binary question "invalid recipient vs. any block", with a confusion table.
 *
 *   npm run eval:classify [-- [--misses] FILE...]
 *
 * Without files it scores the dev set (eval/dev/bounces-dev.ndjson) and every held-out set in eval/heldout/;
 * other labelled sets can be named as FILE arguments. `--misses` lists wrong answers. Exits 1 if the dev set misses its targets, 2 for a missing or malformed file.
 */
import { existsSync, readdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { CategorySchema } from "../shared/domain/classify/index.ts";
import { type ClassifierScore, loadLabelled, scoreClassifier } from "./lib/classifier-score.ts";

const TARGET_CATEGORY = 0.9;
const TARGET_BINARY = 0.95;

const pct = (n: number, d: number): string =>
  d === 0 ? "    - " : `${((100 * n) / d).toFixed(1).padStart(5)}%`;
const short = (c: string): string =>
  c.replace(/_block|_recipient|_limited|_full|_too_large|_failure|_internal/g, "").slice(0, 7);

function report(file: string, s: ClassifierScore, misses: boolean): void {
  console.log(`\n== ${basename(file)}: ${s.total} labelled bounces`);
  console.log("accuracy by expected category (first accepted label):");
  for (const [cat, r] of [...s.perCategory].sort((a, b) => b[1].n - a[1].n)) {
    console.log(`  ${cat.padEnd(22)} ${String(r.ok).padStart(4)}/${String(r.n).padEnd(4)} ${pct(r.ok, r.n)}`);
  }
  const cats = CategorySchema.options;
  console.log("\nconfusion (rows: expected, first accepted label; columns: predicted):");
  console.log(`  ${"".padEnd(22)}${cats.map((c) => short(c).padStart(8)).join("")}`);
  for (const [cat, line] of s.confusion) {
    console.log(`  ${cat.padEnd(22)}${cats.map((c) => String(line.get(c) ?? "·").padStart(8)).join("")}`);
  }
  console.log(`\ncategory accuracy:          ${s.correct}/${s.total} ${pct(s.correct, s.total)}`);
  console.log(
    `invalid-vs-block accuracy:  ${s.binaryCorrect}/${s.binaryTotal} ${pct(s.binaryCorrect, s.binaryTotal)}`,
  );
  if (misses && s.misses.length > 0) {
    console.log("misses:");
    for (const m of s.misses) {
      console.log(
        `  ${m.row.sisimaiReason.padEnd(15)} want ${m.row.accept.join("|")} got ${m.got} (${m.rule}): ${m.row.text.slice(0, 100)}`,
      );
    }
  }
}

const args = process.argv.slice(2);
const showMisses = args.includes("--misses");
const named = args.filter((a) => !a.startsWith("--"));
const dev = resolve("eval/dev/bounces-dev.ndjson");
const heldOut = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith(".ndjson"))
        .sort()
        .map((f) => resolve(join(dir, f)))
    : [];
const files = named.length > 0 ? named.map((f) => resolve(f)) : [dev, ...heldOut("eval/heldout")];

let belowTarget = false;
for (const file of files) {
  let score: ClassifierScore;
  try {
    score = scoreClassifier(loadLabelled(file));
  } catch (e) {
    console.error(`eval:classify: ${(e as Error).message}`);
    process.exit(2);
  }
  report(file, score, showMisses);
  if (file === dev) {
    const cat = score.correct / score.total;
    const bin = score.binaryCorrect / score.binaryTotal;
    if (cat < TARGET_CATEGORY || bin < TARGET_BINARY) {
      console.log(
        `dev set below target: category ≥ ${TARGET_CATEGORY * 100}%, invalid-vs-block ≥ ${TARGET_BINARY * 100}%`,
      );
      belowTarget = true;
    }
  } else {
    console.log("(held-out: scored for honesty, never tuned against)");
  }
}
process.exit(belowTarget ? 1 : 0);

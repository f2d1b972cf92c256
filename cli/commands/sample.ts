import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  BounceInputSchema,
  type Category,
  classifyBounce,
  type Side,
} from "../../shared/domain/classify/index.ts";

const SAMPLE = fileURLToPath(new URL("../samples/rejections.ndjson", import.meta.url));

/** Classifies the bundled sample of real gateway rejection texts and prints a summary table. */
export function runSample(out: (line: string) => void): void {
  const rows = readFileSync(SAMPLE, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => BounceInputSchema.parse(JSON.parse(l)));
  const byCategory = new Map<Category, number>();
  const bySide = new Map<Side, number>();
  let falseHard = 0;
  let calledHard = 0;
  out(`bounce-radar: classifying ${rows.length} real rejection lines from recipient gateways\n`);
  out(`${"category".padEnd(22)} ${"side".padEnd(9)} ${"gateway".padEnd(17)} conf  text`);
  for (const row of rows) {
    const c = classifyBounce(row);
    byCategory.set(c.category, (byCategory.get(c.category) ?? 0) + 1);
    bySide.set(c.side, (bySide.get(c.side) ?? 0) + 1);
    if (row.espClass === "hard") calledHard++;
    if (c.falseHardBounce) falseHard++;
    const flag = c.falseHardBounce ? "!" : " ";
    out(
      `${c.category.padEnd(22)} ${c.side.padEnd(9)} ${(c.gateway ?? "-").padEnd(17)} ${c.confidence.toFixed(2)}${flag} ${row.text.slice(0, 70)}`,
    );
  }
  out("\nsummary");
  for (const [cat, n] of [...byCategory].sort((a, b) => b[1] - a[1])) out(`  ${cat.padEnd(22)} ${n}`);
  out(`  sides: ${[...bySide].map(([s, n]) => `${s} ${n}`).join(", ")}`);
  out(
    `  ${falseHard} of ${calledHard} bounces the ESP called hard are blocks or filters, not missing mailboxes (marked !)`,
  );
  out("\nNext: pipe your own lines through `bounce-radar classify` (see `bounce-radar classify --help`).");
}

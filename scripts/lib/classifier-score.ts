import { readFileSync } from "node:fs";
import * as z from "zod";
import {
  BLOCK_CATEGORIES,
  type Category,
  CategorySchema,
  classifyBounce,
} from "../../shared/domain/classify/index.ts";

/** A labelled rejection text: Sisimai's reason plus the categories of our taxonomy accepted as correct. */
export const LabelledBounceSchema = z.object({
  id: z.string(),
  text: z.string(),
  code: z.number().int().optional(),
  enhanced: z.string().optional(),
  sisimaiReason: z.string(),
  accept: z.array(CategorySchema).min(1),
  binary: z.enum(["invalid", "block", "other"]),
});
export type LabelledBounce = z.infer<typeof LabelledBounceSchema>;

export interface Miss {
  readonly row: LabelledBounce;
  readonly got: Category;
  readonly rule: string;
}

export interface ClassifierScore {
  readonly total: number;
  readonly correct: number;
  readonly binaryTotal: number;
  readonly binaryCorrect: number;
  /** Keyed by the first accepted label. */
  readonly perCategory: ReadonlyMap<Category, { n: number; ok: number }>;
  /** expected (first accepted label) → predicted → count */
  readonly confusion: ReadonlyMap<Category, ReadonlyMap<Category, number>>;
  readonly misses: readonly Miss[];
}

export function loadLabelled(file: string): LabelledBounce[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .map((line, i) => ({ line, n: i + 1 }))
    .filter(({ line }) => line.trim() !== "")
    .map(({ line, n }) => {
      const parsed = LabelledBounceSchema.safeParse(JSON.parse(line));
      if (!parsed.success) {
        throw new Error(
          `${file}:${n}: ${parsed.error.issues[0]?.path.join(".")} ${parsed.error.issues[0]?.message}`,
        );
      }
      return parsed.data;
    });
}

/**
 * A prediction is right when its category is in `accept`. The binary question counts only rows labelled
 * invalid or block: invalid must be predicted invalid_recipient, block must be predicted one of the blocks.
 */
export function scoreClassifier(rows: readonly LabelledBounce[]): ClassifierScore {
  const perCategory = new Map<Category, { n: number; ok: number }>();
  const confusion = new Map<Category, Map<Category, number>>();
  const misses: Miss[] = [];
  let correct = 0;
  let binaryTotal = 0;
  let binaryCorrect = 0;
  for (const row of rows) {
    const got = classifyBounce({
      text: row.text,
      ...(row.code !== undefined ? { code: row.code } : {}),
      ...(row.enhanced !== undefined ? { enhanced: row.enhanced } : {}),
    });
    const right = row.accept.includes(got.category);
    if (right) correct++;
    else misses.push({ row, got: got.category, rule: got.rule });
    const expected = row.accept[0] ?? "unknown";
    const cell = perCategory.get(expected) ?? { n: 0, ok: 0 };
    cell.n++;
    if (right) cell.ok++;
    perCategory.set(expected, cell);
    const line = confusion.get(expected) ?? new Map<Category, number>();
    line.set(got.category, (line.get(got.category) ?? 0) + 1);
    confusion.set(expected, line);
    if (row.binary !== "other") {
      binaryTotal++;
      const ok =
        row.binary === "invalid" ? got.category === "invalid_recipient" : BLOCK_CATEGORIES.has(got.category);
      if (ok) binaryCorrect++;
    }
  }
  return { total: rows.length, correct, binaryTotal, binaryCorrect, perCategory, confusion, misses };
}

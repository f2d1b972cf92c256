/**
 * The attribution evaluation's text bank (eval/attribution-texts/texts.ndjson): real rejection texts per receiving
 * platform and kind, each with its public source or the eval/ record it came from, split into a `dev` half (rules may
 * be developed against it) and a `score` half (the evaluation scores with it). eval/attribution-texts/README.md says
 * where the texts come from and how the split works; `computeSplits` is the rule, and
 * `node bin/run-ts.js scripts/eval/write-text-splits.ts` rewrites the stored split from it.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as z from "zod";

export const TEXT_KINDS = [
  "user_unknown",
  "directory_block",
  "policy",
  "reputation",
  "auth",
  "content",
  "esp_internal",
  "esp_remote",
  "outage",
] as const;
export type TextKind = (typeof TEXT_KINDS)[number];

/** Platforms with texts of their own; every other receiver (self-hosted, unrecognised, …) answers as `generic`. */
export const PLATFORMS = [
  "microsoft365",
  "outlook_com",
  "google_workspace",
  "gmail",
  "yahoo",
  "icloud",
  "proofpoint",
  "mimecast",
  "barracuda",
  "cisco",
  "trend_micro",
  "sophos",
  "generic",
  "esp",
] as const;

export const BankTextSchema = z.object({
  id: z.string().min(1),
  platform: z.enum(PLATFORMS),
  kind: z.enum(TEXT_KINDS),
  /** A template: `{addr}`, `{ip}`, `{sender}`, … are filled per bounce (see fillTemplate in b2b-history.ts). */
  text: z.string().min(3),
  /** A public URL, or `eval/<file>#<record id>`. */
  source: z.string().min(8),
  note: z.string().optional(),
  split: z.enum(["dev", "score"]),
  /** The simulation already produces this wording, so it can only be `dev`. */
  inSimulation: z.boolean().optional(),
});
export type BankText = z.infer<typeof BankTextSchema>;

export const DEFAULT_BANK = resolve("eval/attribution-texts/texts.ndjson");

export function loadTextBank(file: string = DEFAULT_BANK): BankText[] {
  const lines = readFileSync(file, "utf8").split("\n");
  const out: BankText[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const parsed = BankTextSchema.safeParse(JSON.parse(line));
    if (!parsed.success) throw new Error(`${file}:${i + 1}: ${parsed.error.issues[0]?.message ?? "invalid"}`);
    out.push(parsed.data);
  });
  const ids = new Set<string>();
  for (const t of out) {
    if (ids.has(t.id)) throw new Error(`${file}: duplicate id ${t.id}`);
    ids.add(t.id);
  }
  return out;
}

/**
 * Wording without what varies per bounce: lower case, placeholders, email addresses, bracketed references, and every
 * token with a digit (reply codes, ids, IPs) dropped; punctuation folded to single spaces.
 */
export function normaliseWording(text: string): string {
  return text
    .toLowerCase()
    .replace(/\{\w+\}/g, " ")
    .replace(/[^\s<>()[\]]+@[^\s<>()[\]]+/g, " ")
    .replace(/\[[^\]]*\]|<[^>]*>/g, " ")
    .replace(/\S*\d\S*/g, " ")
    .replace(/[^a-z]+/g, " ")
    .trim();
}

/** Same wording: equal once normalised, or one contains the other (the shorter at least 24 characters). */
export function sameWording(a: string, b: string): boolean {
  const [x, y] = [normaliseWording(a), normaliseWording(b)];
  if (x === y) return true;
  const [short, long] = x.length <= y.length ? [x, y] : [y, x];
  return short.length >= 24 && long.includes(short);
}

const sha256 = (s: string): string => createHash("sha256").update(s).digest("hex");

/**
 * The fixed split rule. Within each (platform, kind) bucket: a text whose wording the simulation already produces
 * (`simulationTexts`, compared with the bank's template rendered by `render` in the same context) is `dev`; the others are ordered by the SHA-256 of their text and alternate score, dev, score,
 * … so every bucket with a text of its own scores with at least one, and about half of the bank is held out.
 */
export function computeSplits(
  texts: ReadonlyArray<Pick<BankText, "id" | "platform" | "kind" | "text">>,
  simulationTexts: readonly string[],
  render: (template: string) => string = (t) => t,
): Map<string, Pick<BankText, "split" | "inSimulation">> {
  const out = new Map<string, Pick<BankText, "split" | "inSimulation">>();
  const buckets = new Map<string, Array<Pick<BankText, "id" | "text">>>();
  for (const t of texts) {
    const rendered = render(t.text);
    if (simulationTexts.some((s) => sameWording(s, rendered))) {
      out.set(t.id, { split: "dev", inSimulation: true });
      continue;
    }
    const key = `${t.platform}/${t.kind}`;
    buckets.set(key, [...(buckets.get(key) ?? []), t]);
  }
  for (const bucket of buckets.values()) {
    const ordered = [...bucket].sort((a, b) => sha256(a.text).localeCompare(sha256(b.text)));
    ordered.forEach((t, i) => {
      out.set(t.id, { split: i % 2 === 0 ? "score" : "dev" });
    });
  }
  return out;
}

/** The bank's platform for a recipient gateway as the simulation names it. */
export function platformOf(gateway: string): (typeof PLATFORMS)[number] {
  return (PLATFORMS as readonly string[]).includes(gateway) && gateway !== "esp"
    ? (gateway as (typeof PLATFORMS)[number])
    : "generic";
}

/** Texts of one half of the bank by kind and platform, with the generic platform as the fallback. */
export class TextPicker {
  private readonly byKey = new Map<string, string[]>();

  constructor(
    bank: readonly BankText[],
    readonly split: "dev" | "score" = "score",
  ) {
    for (const t of bank) {
      if (t.split !== split) continue;
      const key = `${t.platform}/${t.kind}`;
      this.byKey.set(key, [...(this.byKey.get(key) ?? []), t.text]);
    }
  }

  /** The texts a receiver behind `gateway` answers with for `kind` (the ESP's own kinds ignore the gateway). */
  texts(kind: TextKind, gateway: string): readonly string[] {
    if (kind === "esp_internal" || kind === "esp_remote") return this.byKey.get(`esp/${kind}`) ?? [];
    return this.byKey.get(`${platformOf(gateway)}/${kind}`) ?? this.byKey.get(`generic/${kind}`) ?? [];
  }
}

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MAX_MEMO_TEXT } from "../../../../shared/domain/classify/classify-memo.ts";
import {
  type BounceInput,
  BounceInputSchema,
  ClassificationMemo,
  classifyBounce,
  classifyBounceCached,
} from "../../../../shared/domain/classify/index.ts";

const DEV_DIR = "eval/dev";

/** The dev set rows as classifier inputs (labels dropped: only the classifier's own answer matters here). */
function devInputs(): BounceInput[] {
  const files = readdirSync(DEV_DIR).filter((f) => f.endsWith(".ndjson"));
  return files.flatMap((f) =>
    readFileSync(join(DEV_DIR, f), "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => BounceInputSchema.parse(JSON.parse(line))),
  );
}

describe("ClassificationMemo", () => {
  const inputs = devInputs();

  it("gives the uncached classifier's answer for every dev-set text, on a miss and on a hit", () => {
    expect(inputs.length).toBeGreaterThan(100);
    const memo = new ClassificationMemo();
    for (const pass of ["miss", "hit"]) {
      for (const input of inputs) expect(memo.classifyBounce(input), pass).toEqual(classifyBounce(input));
    }
    expect(memo.stats.hits).toBeGreaterThanOrEqual(inputs.length);
  });

  it("answers through the process-wide memo like the uncached classifier", () => {
    for (const input of inputs) expect(classifyBounceCached(input)).toEqual(classifyBounce(input));
  });

  it("stays within its capacity, keeping the recently used entries", () => {
    const capacity = 50;
    const memo = new ClassificationMemo({ capacity });
    const text = (i: number): BounceInput => ({ text: `550 5.1.1 <user${i}@example.com>: user unknown` });
    memo.classifyBounce(text(0));
    for (let i = 1; i < capacity + 75; i++) {
      memo.classifyBounce(text(i));
      // Touching entry 0 keeps it recently used, so it survives every eviction.
      memo.classifyBounce(text(0));
      expect(memo.size).toBeLessThanOrEqual(capacity);
    }
    expect(memo.size).toBeGreaterThanOrEqual(capacity / 2);
    const before = memo.stats.misses;
    memo.classifyBounce(text(0));
    expect(memo.stats.misses).toBe(before);
    // The oldest untouched entries were dropped.
    memo.classifyBounce(text(1));
    expect(memo.stats.misses).toBe(before + 1);
  });

  it("does not let inputs differing in one field share an answer", () => {
    const base: BounceInput = { text: "550 5.1.1 User unknown", code: 550, enhanced: "5.1.1" };
    const variants: BounceInput[] = [
      base,
      { ...base, mxHost: "mx1.hc1234-56.eu.iphmx.com" },
      { ...base, mxHost: "acme-com.mail.protection.outlook.com" },
      { ...base, espClass: "hard" },
      { ...base, espClass: "soft" },
      { ...base, code: 450 },
      { ...base, enhanced: "4.1.1" },
      { text: base.text },
    ];
    const memo = new ClassificationMemo();
    for (const v of variants) memo.classifyBounce(v);
    expect(memo.size).toBe(variants.length);
    for (const v of variants) expect(memo.classifyBounce(v)).toEqual(classifyBounce(v));
    // The cases above do change the verdict, so a collision would have shown.
    const verdicts = new Set(variants.map((v) => JSON.stringify(classifyBounce(v))));
    expect(verdicts.size).toBeGreaterThan(2);
  });

  it("keeps look-alike inputs apart: absent vs empty, and text that imitates another field", () => {
    const pairs: Array<[BounceInput, BounceInput]> = [
      [{ text: "5.1.1 user unknown" }, { text: "user unknown", enhanced: "5.1.1" }],
      [{ text: "user unknown 550" }, { text: "user unknown", code: 550 }],
      [{ text: "t", enhanced: "" }, { text: "t" }],
      [{ text: "t", mxHost: "" }, { text: "t" }],
    ];
    for (const [a, b] of pairs) {
      const memo = new ClassificationMemo();
      memo.classifyBounce(a);
      memo.classifyBounce(b);
      expect(memo.size, JSON.stringify([a, b])).toBe(2);
      expect(memo.stats.misses).toBe(2);
    }
  });

  it("reuses an answer only when every field the classifier reads is equal", () => {
    // A new BounceInput field must be compared by the memo too, or two inputs differing in it would share an answer.
    expect(Object.keys(BounceInputSchema.shape).sort()).toEqual(
      ["code", "enhanced", "espClass", "mxHost", "text"].sort(),
    );
    const full: Required<BounceInput> = {
      text: "t",
      code: 550,
      enhanced: "5.1.1",
      mxHost: "mx.example.com",
      espClass: "hard",
    };
    let calls = 0;
    const memo = new ClassificationMemo({
      classify: (input) => {
        calls++;
        return classifyBounce(input);
      },
    });
    memo.classifyBounce(full);
    memo.classifyBounce({ ...full });
    expect(calls).toBe(1);
    const optional = ["code", "enhanced", "mxHost", "espClass"] as const;
    for (const name of optional) memo.classifyBounce({ ...full, [name]: undefined });
    memo.classifyBounce({ ...full, text: "u" });
    expect(calls).toBe(2 + optional.length);
    expect(memo.size).toBe(2 + optional.length);
  });

  it("returns frozen answers, so one caller cannot change another's", () => {
    const memo = new ClassificationMemo();
    const input: BounceInput = { text: "550 5.7.1 Message rejected as spam" };
    const first = memo.classifyBounce(input);
    expect(Object.isFrozen(first)).toBe(true);
    expect(() => {
      (first as { category: string }).category = "unknown";
    }).toThrow(TypeError);
    expect(memo.classifyBounce(input)).toEqual(classifyBounce(input));
  });

  it("classifies texts too long to memoise without storing them", () => {
    const memo = new ClassificationMemo();
    const long: BounceInput = { text: `550 5.1.1 user unknown ${"x".repeat(MAX_MEMO_TEXT)}` };
    expect(memo.classifyBounce(long)).toEqual(classifyBounce(long));
    expect(memo.size).toBe(0);
  });

  it("rejects a capacity that is not a positive integer", () => {
    expect(() => new ClassificationMemo({ capacity: 0 })).toThrow(/capacity/);
    expect(() => new ClassificationMemo({ capacity: 10.5 })).toThrow(/capacity/);
  });
});

import { describe, expect, it } from "vitest";
import { logSafe } from "../../../shared/aws/log-text.ts";

/** ESC, U+202E and a line break: what must never reach a log line live. */
const LIVE = { test: (s: string) => ["\u001b", "\u202e", "\n"].some((c) => s.includes(c)) };

describe("logSafe", () => {
  const hostile = "550 5.1.1 <anna.berg@acme.example> \u001b[31mred\u001b[0m evil\u202Emoc.kcab\nnext";

  it("makes every string of a log field inert and masks its addresses", () => {
    const out = logSafe(true)({ error: hostile, nested: [hostile], count: 3 });
    expect(out.count).toBe(3);
    for (const s of [out.error, out.nested[0] ?? ""]) {
      expect(LIVE.test(s)).toBe(false);
      expect(s).toContain("\\x1b[31m");
      expect(s).toContain("\\u202e");
      expect(s).not.toContain("anna.berg@");
      expect(s).toContain("a***@acme.example");
    }
  });

  it("keeps addresses when masking is off, still inert", () => {
    const s = logSafe(false)(hostile);
    expect(s).toContain("anna.berg@acme.example");
    expect(LIVE.test(s)).toBe(false);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { keySegment } from "../../../shared/store/key-segment.ts";
import { assertValidKey } from "../../../shared/store/key-syntax.ts";

describe("keySegment", () => {
  it("keeps ordinary domain names as they are", () => {
    for (const d of ["acme-corp.com", "xn--bcher-kva.de", "mail.eu.acme.co.uk", "a_b.example"])
      expect(keySegment(d)).toBe(d);
  });

  it("encodes what a key segment cannot hold, readably", () => {
    expect(keySegment("[192.0.2.1]")).toBe("%5B192.0.2.1%5D");
    expect(keySegment("-leading-dash.com")).toBe("%2Dleading-dash.com");
    expect(keySegment("..")).toBe("%2E%2E");
    expect(keySegment(".hidden")).toBe("%2Ehidden");
    expect(keySegment("a/../b")).toBe("a%2F%2E%2E%2Fb");
    expect(keySegment("Acme.com")).toBe("%41cme.com");
    expect(keySegment("bücher.de")).toBe("b%C3%BCcher.de");
    expect(keySegment("")).toBe("%");
    expect(keySegment("x".repeat(300))).toMatch(/^~[0-9a-f]{64}$/);
    expect(keySegment("\ud800.com")).not.toBe(keySegment("\ud801.com"));
  });

  it("gives any string a valid segment of at most 200 characters, one-to-one", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 120 }),
        fc.string({ unit: "binary", maxLength: 120 }),
        (a, b) => {
          const ka = keySegment(a);
          assertValidKey(`state/recipients/${ka}/last-delivered.json`);
          expect(ka.length).toBeLessThanOrEqual(200);
          expect(ka).not.toContain(".~tmp-");
          if (a !== b) expect(keySegment(b)).not.toBe(ka);
          if (!ka.startsWith("~")) expect(decodeURIComponent(ka === "%" ? "" : ka)).toBe(a);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

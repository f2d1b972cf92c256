import { describe, expect, it } from "vitest";
import { EspClassSchema } from "../../../../../shared/domain/classify/taxonomy.ts";
import {
  ESP_CLASS_OF_CATEGORY,
  espClassOfBounceClass,
  SPARKPOST_BOUNCE_CLASSES,
  sparkpostBounceClass,
} from "../../../../../shared/sources/esp/sparkpost/bounce-classes.ts";

/** https://www.sparkpost.com/docs/deliverability/bounce-classification-codes/, transcribed: code, name, category. */
const REFERENCE: ReadonlyArray<readonly [number, string, string]> = [
  [1, "Undetermined", "undetermined"],
  [10, "Invalid Recipient", "hard"],
  [20, "Soft Bounce", "soft"],
  [21, "DNS Failure", "soft"],
  [22, "Mailbox Full", "soft"],
  [23, "Too Large", "soft"],
  [24, "Timeout", "soft"],
  [25, "Admin Failure", "admin"],
  [30, "Generic Bounce: No RCPT", "hard"],
  [40, "Generic Bounce", "soft"],
  [50, "Mail Block", "block"],
  [51, "Spam Block", "block"],
  [52, "Spam Content", "block"],
  [53, "Prohibited Attachment", "block"],
  [54, "Relaying Denied", "block"],
  [60, "Auto-Reply", "soft"],
  [70, "Transient Failure", "soft"],
  [80, "Subscribe", "admin"],
  [90, "Unsubscribe", "hard"],
  [100, "Challenge-Response", "soft"],
];

describe("SPARKPOST_BOUNCE_CLASSES", () => {
  it("holds every class of the reference with its name and category, and nothing else", () => {
    expect(SPARKPOST_BOUNCE_CLASSES.map((c) => [c.code, c.name, c.category])).toEqual(REFERENCE);
  });

  it("describes every class, once per code", () => {
    const codes = SPARKPOST_BOUNCE_CLASSES.map((c) => c.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of SPARKPOST_BOUNCE_CLASSES) {
      expect(c.description).toMatch(/^[A-Z].{10,}\.$/);
      expect(sparkpostBounceClass(c.code)).toBe(c);
    }
  });

  it("maps each category onto the taxonomy's EspClass, admin onto none", () => {
    for (const value of Object.values(ESP_CLASS_OF_CATEGORY)) {
      if (value !== null) expect(EspClassSchema.parse(value)).toBe(value);
    }
    const byClass = Object.fromEntries(REFERENCE.map(([code]) => [code, espClassOfBounceClass(code)]));
    expect(byClass).toEqual({
      1: "undetermined",
      10: "hard",
      20: "soft",
      21: "soft",
      22: "soft",
      23: "soft",
      24: "soft",
      25: null,
      30: "hard",
      40: "soft",
      50: "block",
      51: "block",
      52: "block",
      53: "block",
      54: "block",
      60: "soft",
      70: "soft",
      80: null,
      90: "hard",
      100: "soft",
    });
  });

  it("calls a code missing from the table undetermined", () => {
    expect(sparkpostBounceClass(26)).toBeUndefined();
    expect(espClassOfBounceClass(26)).toBe("undetermined");
    expect(espClassOfBounceClass(999)).toBe("undetermined");
  });
});

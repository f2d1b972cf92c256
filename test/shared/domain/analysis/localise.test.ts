import { describe, expect, it } from "vitest";
import {
  type ElementStats,
  jensenShannon,
  localiseDimension,
} from "../../../../shared/domain/analysis/localise.ts";

const ip = (element: string, attempts: number, actual: number, rate = 0.01): ElementStats => ({
  element,
  attempts,
  actual,
  expected: attempts * rate,
});

describe("localiseDimension (Adtributor over one dimension)", () => {
  it("names the one sending IP that carries the excess, with its explanatory power and surprise", () => {
    const l = localiseDimension("sendingIp", [
      ip("a", 1000, 400),
      ip("b", 1000, 9),
      ip("c", 1000, 11),
      ip("d", 1000, 10),
    ]);
    expect(l?.elements.map((e) => e.element)).toEqual(["a"]);
    expect(l?.localised).toBe(true);
    expect(l?.explanatoryPower).toBeGreaterThan(0.95);
    expect(l?.rest).toMatchObject({ attempts: 3000, actual: 30 });
    expect(l?.surprise).toBeGreaterThan(0.1);
  });

  it("takes every element when all carry the excess alike: not localised in this dimension", () => {
    const l = localiseDimension("sendingIp", [ip("a", 1000, 200), ip("b", 1000, 210), ip("c", 1000, 190)]);
    expect(l?.localised).toBe(false);
  });

  it("finds nothing to explain at baseline, nor in a few bounces above it", () => {
    expect(localiseDimension("sendingIp", [ip("a", 1000, 10), ip("b", 1000, 9)])).toBeNull();
    expect(localiseDimension("sendingIp", [ip("a", 1000, 13), ip("b", 1000, 9)])).toBeNull();
  });

  it("measures surprise as a Jensen-Shannon divergence: 0 for equal shares, 1 bit at most", () => {
    expect(jensenShannon(0.3, 0.3)).toBe(0);
    expect(jensenShannon(0, 1)).toBeCloseTo(0.5, 5);
    expect(jensenShannon(0.25, 0.9)).toBeGreaterThan(jensenShannon(0.25, 0.5));
  });
});

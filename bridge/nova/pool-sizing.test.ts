import { describe, expect, it } from "vitest";
import { ArrivalRate, MovingAverage, reopenDelayMs, targetPoolSize } from "./pool-sizing.ts";

describe("pool sizing", () => {
  it("estimates a steady arrival rate and lets it decay when calls stop", () => {
    const rate = new ArrivalRate(60_000);
    expect(rate.perSecond(0)).toBe(0);
    // Two calls a second for five minutes (several time constants): the estimate settles near 2/s.
    for (let t = 0; t <= 300_000; t += 500) rate.arrive(t);
    expect(rate.perSecond(300_000)).toBeGreaterThan(1.9);
    expect(rate.perSecond(300_000)).toBeLessThan(2.1);
    // A minute later without calls it has fallen to about 1/e.
    const later = rate.perSecond(360_000);
    expect(later).toBeGreaterThan(0.7);
    expect(later).toBeLessThan(0.8);
  });

  it("averages set-up times, starting from the first sample", () => {
    const setup = new MovingAverage(0.25, 300);
    expect(setup.value).toBe(300);
    setup.add(100);
    expect(setup.value).toBe(100);
    setup.add(200);
    expect(setup.value).toBe(125);
    expect(setup.samples).toBe(2);
  });

  it("covers the arrivals expected during one set-up, within the configured bounds", () => {
    const size = (arrivalsPerSecond: number, setupMs: number, minSize = 0, maxSize = 50) =>
      targetPoolSize({ arrivalsPerSecond, setupMs, minSize, maxSize });
    expect(size(0, 300)).toBe(0);
    expect(size(0, 300, 2)).toBe(2);
    expect(size(0.1, 300)).toBe(1); // m = 0.03
    expect(size(1, 300)).toBe(2); // m = 0.3: 0.3 + 1.1
    expect(size(10, 300)).toBe(7); // m = 3: 3 + 3.46
    expect(size(100, 300)).toBe(41); // m = 30: 30 + 10.95
    expect(size(100, 300, 0, 16)).toBe(16);
    expect(size(1, 0, 1)).toBe(1);
  });

  it("backs off exponentially after failed opens, up to a cap", () => {
    expect([0, 1, 2, 3, 10].map((failures) => reopenDelayMs(failures))).toEqual([0, 500, 1000, 2000, 30_000]);
  });
});

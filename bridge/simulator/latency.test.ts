import { describe, expect, it } from "vitest";
import { latencySampler, seededRandom } from "./latency.ts";

describe("latencySampler", () => {
  it("draws a log-normal with the median and 95th percentile asked for", () => {
    const draw = latencySampler({ medianMs: 300, p95Ms: 800 }, seededRandom(42));
    const draws = Array.from({ length: 20_000 }, draw).sort((a, b) => a - b);
    expect(draws[10_000]).toBeGreaterThan(285);
    expect(draws[10_000]).toBeLessThan(315);
    expect(draws[19_000]).toBeGreaterThan(760);
    expect(draws[19_000]).toBeLessThan(840);
    expect(draws[0]).toBeGreaterThan(0);
  });

  it("repeats with the same seed and is constant when the median is zero", () => {
    const a = latencySampler({ medianMs: 50, p95Ms: 90 }, seededRandom(7));
    const b = latencySampler({ medianMs: 50, p95Ms: 90 }, seededRandom(7));
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
    expect(latencySampler({ medianMs: 0, p95Ms: 0 }, seededRandom(1))()).toBe(0);
    expect(() => latencySampler({ medianMs: 100, p95Ms: 50 }, seededRandom(1))).toThrow(RangeError);
  });
});

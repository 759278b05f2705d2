import { describe, expect, it } from "vitest";
import { histogram, niceWidth, percentileOfSorted, summarise } from "./percentiles.ts";

describe("percentiles", () => {
  it("takes the nearest rank, never interpolating", () => {
    const sorted = Array.from({ length: 100 }, (_, index) => index + 1);
    expect(percentileOfSorted(sorted, 50)).toBe(50);
    expect(percentileOfSorted(sorted, 95)).toBe(95);
    expect(percentileOfSorted(sorted, 99)).toBe(99);
    expect(percentileOfSorted(sorted, 100)).toBe(100);
    expect(percentileOfSorted([7, 9], 50)).toBe(7);
    expect(percentileOfSorted([7, 9], 51)).toBe(9);
  });

  it("summarises unsorted samples and ignores non-finite values", () => {
    const summary = summarise([5, 1, Number.NaN, 3, 4, 2]);
    expect(summary).toMatchObject({ count: 5, p50: 3, p99: 5, max: 5, mean: 3 });
  });

  it("gives NaN figures and a zero count for no samples", () => {
    const summary = summarise([]);
    expect(summary.count).toBe(0);
    expect(summary.p50).toBeNaN();
    expect(summary.max).toBeNaN();
  });
});

describe("histogram", () => {
  it("counts every sample once, the far tail in the last bin", () => {
    const values = [...Array.from({ length: 999 }, (_, index) => index / 100), 500];
    const { bins, overflow } = histogram(values, 10);
    expect(bins.reduce((total, bin) => total + bin.count, 0)).toBe(values.length);
    expect(overflow).toBe(1);
    expect(bins[0]?.fromMs).toBe(0);
    for (const [index, bin] of bins.entries()) {
      if (index > 0) expect(bin.fromMs).toBeCloseTo(bins[index - 1]?.toMs ?? Number.NaN);
    }
  });

  it("starts below zero when samples are negative", () => {
    const { bins } = histogram([-3, 1, 2], 5);
    expect(bins[0]?.fromMs).toBeLessThanOrEqual(-3);
  });

  it("rounds widths to 1, 2, 2.5 or 5 times a power of ten", () => {
    expect(niceWidth(0.3)).toBe(0.5);
    expect(niceWidth(1.7)).toBe(2);
    expect(niceWidth(2.2)).toBe(2.5);
    expect(niceWidth(70)).toBe(100);
  });
});

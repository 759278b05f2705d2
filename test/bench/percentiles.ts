/**
 * Summary statistics for benchmark samples: nearest-rank percentiles (the sample at or above the rank,
 * never interpolated), count, mean and max. Empty sample sets give NaN figures and a zero count.
 */

export interface Summary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of ascending-sorted values: the smallest value with at least p% at or below it. */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarise(values: readonly number[]): Summary {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    count: sorted.length,
    p50: percentileOfSorted(sorted, 50),
    p95: percentileOfSorted(sorted, 95),
    p99: percentileOfSorted(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.length === 0 ? Number.NaN : total / sorted.length,
  };
}

export interface HistogramBin {
  fromMs: number;
  toMs: number;
  count: number;
}

/**
 * Equal-width bins from 0 (or the smallest value, if negative) to the 99.5th percentile rounded up to a
 * "nice" width; values beyond the last bin are counted in it (shown as an overflow bin by the report).
 */
export function histogram(
  values: readonly number[],
  binCount = 30,
): { bins: HistogramBin[]; overflow: number } {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return { bins: [], overflow: 0 };
  const low = Math.min(0, sorted[0]!);
  const high = Math.max(percentileOfSorted(sorted, 99.5), low + 1);
  const width = niceWidth((high - low) / binCount);
  const start = Math.floor(low / width) * width;
  const count = Math.max(1, Math.ceil((high - start) / width));
  const bins: HistogramBin[] = Array.from({ length: count }, (_, index) => ({
    fromMs: start + index * width,
    toMs: start + (index + 1) * width,
    count: 0,
  }));
  let overflow = 0;
  for (const value of sorted) {
    const index = Math.floor((value - start) / width);
    if (index >= count) overflow += 1;
    bins[Math.min(count - 1, Math.max(0, index))]!.count += 1;
  }
  return { bins, overflow };
}

/** The smallest of 1, 2, 2.5, 5 × 10^k that is at least `raw`. */
export function niceWidth(raw: number): number {
  if (!(raw > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= raw) return step * power;
  return 10 * power;
}

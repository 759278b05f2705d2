/**
 * Model latency, from the end of the caller's turn to the first reply audio: drawn from a log-normal
 * distribution set by its median and 95th percentile, with a seedable generator so runs can be repeated.
 */

export interface LatencyDistribution {
  medianMs: number;
  p95Ms: number;
}

/** Nova 2 Sonic is quoted at under 700 ms from end of speech to first audio; the pause is modelled apart. */
export const DEFAULT_MODEL_LATENCY: LatencyDistribution = { medianMs: 350, p95Ms: 700 };

const Z_95 = 1.6448536269514722;

/** mulberry32: a small, fast, seedable uniform generator on [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A sampler of log-normal latencies; `random` yields uniforms on [0, 1). */
export function latencySampler(distribution: LatencyDistribution, random: () => number): () => number {
  const { medianMs, p95Ms } = distribution;
  if (!(medianMs >= 0) || !(p95Ms >= medianMs)) {
    throw new RangeError(`latency needs 0 <= median <= p95, got ${medianMs} / ${p95Ms}`);
  }
  if (medianMs === 0) return () => 0;
  const mu = Math.log(medianMs);
  const sigma = (Math.log(p95Ms) - mu) / Z_95;
  return () => {
    const u1 = Math.max(random(), Number.MIN_VALUE);
    const u2 = random();
    const normal = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    return Math.exp(mu + sigma * normal);
  };
}

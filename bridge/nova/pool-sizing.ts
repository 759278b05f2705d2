/**
 * How many ready Nova Sonic streams a pool should hold, pure. A stream taken by a call is replaced by a
 * new one, which needs the connection set-up time to become ready; calls that arrive meanwhile find the
 * pool one stream shorter. So the pool covers the arrivals expected during one set-up time, with room for
 * bursts: with m = rate × setup time, target = ceil(m + 2·√m) (about the 98th percentile of a Poisson
 * count with mean m, for small m), never below the configured minimum nor above the maximum.
 *
 * The arrival rate is an exponentially decaying count of arrivals: each arrival adds 1, the score decays
 * with time constant τ, and score / τ estimates the rate (for a steady Poisson stream its mean is rate·τ).
 * The set-up time is an exponentially weighted moving average of measured set-ups.
 */

export class ArrivalRate {
  readonly #tauMs: number;
  #score = 0;
  #atMs: number | null = null;

  constructor(windowMs: number) {
    this.#tauMs = Math.max(1, windowMs);
  }

  arrive(nowMs: number): void {
    this.#score = this.#decayed(nowMs) + 1;
    this.#atMs = nowMs;
  }

  perSecond(nowMs: number): number {
    return this.#decayed(nowMs) / (this.#tauMs / 1000);
  }

  #decayed(nowMs: number): number {
    if (this.#atMs === null) return 0;
    return this.#score * Math.exp(-Math.max(0, nowMs - this.#atMs) / this.#tauMs);
  }
}

export class MovingAverage {
  readonly #weight: number;
  #value: number;
  #samples = 0;

  /** `weight`: how much each new sample counts (0-1); `initial`: the value before any sample. */
  constructor(weight: number, initial: number) {
    this.#weight = weight;
    this.#value = initial;
  }

  get value(): number {
    return this.#value;
  }

  get samples(): number {
    return this.#samples;
  }

  add(sample: number): void {
    this.#value = this.#samples === 0 ? sample : this.#value + this.#weight * (sample - this.#value);
    this.#samples++;
  }
}

export interface PoolSizeInputs {
  arrivalsPerSecond: number;
  setupMs: number;
  minSize: number;
  maxSize: number;
}

export function targetPoolSize(inputs: PoolSizeInputs): number {
  const expected = Math.max(0, inputs.arrivalsPerSecond) * (Math.max(0, inputs.setupMs) / 1000);
  const covering = expected > 0 ? Math.ceil(expected + 2 * Math.sqrt(expected)) : 0;
  return Math.min(inputs.maxSize, Math.max(inputs.minSize, covering));
}

/** Delay before the next open after `failures` failed opens in a row (none after a success). */
export function reopenDelayMs(failures: number, baseMs = 500, capMs = 30_000): number {
  if (failures <= 0) return 0;
  return Math.min(capMs, baseMs * 2 ** (failures - 1));
}

/**
 * What the fast paths buy, measured on every call and served as JSON (GET /metrics): the time from
 * Twilio's `start` to a model session ready for audio (accepted by the service), by where the session came
 * from (a pre-warm, the pool, or opened cold), and the time from `start` to the greeting's first audio
 * frame, by where it came from (the prompt cache or the model). Keeps the most recent samples of each.
 */

export type SessionSource = "prewarm" | "pool" | "cold";
export type GreetingSource = "cache" | "model";

export interface TimingSummary {
  count: number;
  p50Ms: number | null;
  p95Ms: number | null;
  maxMs: number | null;
}

export interface FastPathSnapshot {
  sessionReadyMs: Record<SessionSource, TimingSummary>;
  greetingFirstAudioMs: Record<GreetingSource, TimingSummary>;
}

const KEEP_SAMPLES = 2000;

class Samples {
  #values: number[] = [];
  #count = 0;

  add(value: number): void {
    this.#count++;
    this.#values.push(value);
    if (this.#values.length > KEEP_SAMPLES) this.#values = this.#values.slice(-KEEP_SAMPLES);
  }

  summary(): TimingSummary {
    const sorted = [...this.#values].sort((a, b) => a - b);
    const at = (q: number): number | null => {
      if (sorted.length === 0) return null;
      const value = sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? null;
      return value === null ? null : Math.round(value * 10) / 10;
    };
    return { count: this.#count, p50Ms: at(0.5), p95Ms: at(0.95), maxMs: at(1) };
  }
}

export class FastPathMetrics {
  readonly #ready: Record<SessionSource, Samples> = {
    prewarm: new Samples(),
    pool: new Samples(),
    cold: new Samples(),
  };
  readonly #greeting: Record<GreetingSource, Samples> = { cache: new Samples(), model: new Samples() };

  sessionReady(source: SessionSource, afterStartMs: number): void {
    this.#ready[source].add(Math.max(0, afterStartMs));
  }

  greetingFirstAudio(source: GreetingSource, afterStartMs: number): void {
    this.#greeting[source].add(Math.max(0, afterStartMs));
  }

  snapshot(): FastPathSnapshot {
    return {
      sessionReadyMs: {
        prewarm: this.#ready.prewarm.summary(),
        pool: this.#ready.pool.summary(),
        cold: this.#ready.cold.summary(),
      },
      greetingFirstAudioMs: {
        cache: this.#greeting.cache.summary(),
        model: this.#greeting.model.summary(),
      },
    };
  }
}

/**
 * How quickly the stack's processes answer a health check while the calls run: a GET every
 * `intervalMs` to each target (one in flight at a time), its response time recorded. A slow answer from
 * the bridge means its event loop is busy — which is also what the edge sees when it picks a bridge.
 */
import { type Summary, summarise } from "./percentiles.ts";

export interface ProbeTarget {
  name: string;
  url: string;
}

export interface ProbeFigures {
  name: string;
  url: string;
  responseMs: Summary;
  /** Checks that failed or timed out. */
  failures: number;
}

export class HealthProbe {
  readonly #targets: ProbeTarget[];
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #samples: number[][];
  readonly #failures: number[];
  readonly #busy: boolean[];
  #timer: NodeJS.Timeout | null = null;

  constructor(targets: ProbeTarget[], intervalMs = 250, timeoutMs = 5000) {
    this.#targets = targets;
    this.#intervalMs = intervalMs;
    this.#timeoutMs = timeoutMs;
    this.#samples = targets.map(() => []);
    this.#failures = targets.map(() => 0);
    this.#busy = targets.map(() => false);
  }

  start(): void {
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
  }

  #tick(): void {
    this.#targets.forEach((target, index) => {
      if (this.#busy[index]) return;
      this.#busy[index] = true;
      const startMs = performance.now();
      fetch(target.url, { signal: AbortSignal.timeout(this.#timeoutMs) })
        .then(async (response) => {
          await response.arrayBuffer();
          if (response.ok) this.#samples[index]?.push(performance.now() - startMs);
          else this.#failures[index] = (this.#failures[index] ?? 0) + 1;
        })
        .catch(() => {
          this.#failures[index] = (this.#failures[index] ?? 0) + 1;
        })
        .finally(() => {
          this.#busy[index] = false;
        });
    });
  }

  stop(): ProbeFigures[] {
    if (this.#timer) clearInterval(this.#timer);
    return this.#targets.map((target, index) => ({
      name: target.name,
      url: target.url,
      responseMs: summarise(this.#samples[index] ?? []),
      failures: this.#failures[index] ?? 0,
    }));
  }
}

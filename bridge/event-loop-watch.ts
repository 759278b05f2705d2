/**
 * How late the bridge's event loop runs. Every call's audio waits on it, so a stall is heard: the watch
 * checks every `intervalMs`, keeps the figures for GET /metrics (how late the checks ran p50/p99/max, GC
 * pauses, stalls) and logs a warning for
 * each stall longer than `stallMs`, with the GC pauses that overlapped it, so that a latency spike can be
 * matched with its cause. The decision is pure (`findStall`); the class is the timer around it.
 */
import { createHistogram, PerformanceObserver, type RecordableHistogram } from "node:perf_hooks";
import type { Logger } from "../shared/log.ts";

export interface GcPause {
  startMs: number;
  durationMs: number;
}

export interface Stall {
  /** How much later than due the check ran. */
  lateMs: number;
  /** GC time inside the stall (the rest was JavaScript, I/O or waiting for a core). */
  gcMs: number;
}

/** What GET /metrics shows of the event loop (lateness figures null before the first check). */
export interface EventLoopFigures {
  lateMs: { checks: number; p50: number | null; p99: number | null; max: number | null };
  stalls: { count: number; worstMs: number; thresholdMs: number };
  gc: { count: number; totalMs: number; maxMs: number };
}

/** GC pauses kept for matching with stalls (a few seconds' worth). */
const RECENT_GC_PAUSES = 64;

/** A check due at `dueMs` ran at `ranMs`: a stall if it is more than `stallMs` late. */
export function findStall(
  dueMs: number,
  ranMs: number,
  stallMs: number,
  pauses: readonly GcPause[],
): Stall | null {
  const lateMs = ranMs - dueMs;
  if (lateMs <= stallMs) return null;
  let gcMs = 0;
  for (const pause of pauses) {
    const overlap = Math.min(ranMs, pause.startMs + pause.durationMs) - Math.max(dueMs, pause.startMs);
    if (overlap > 0) gcMs += overlap;
  }
  return { lateMs, gcMs };
}

export class EventLoopWatch {
  readonly #log: Logger;
  readonly #stallMs: number;
  readonly #intervalMs: number;
  /** How late each check ran, in µs. */
  readonly #lateness: RecordableHistogram = createHistogram();
  readonly #pauses: GcPause[] = [];
  #observer: PerformanceObserver | null = null;
  #timer: NodeJS.Timeout | null = null;
  #gcCount = 0;
  #gcTotalMs = 0;
  #gcMaxMs = 0;
  #stalls = 0;
  #worstStallMs = 0;

  constructor(options: { logger: Logger; stallMs?: number; intervalMs?: number }) {
    this.#log = options.logger;
    this.#stallMs = options.stallMs ?? 25;
    this.#intervalMs = options.intervalMs ?? 10;
  }

  start(): void {
    if (this.#timer) return;
    this.#observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        this.#gcCount++;
        this.#gcTotalMs += entry.duration;
        this.#gcMaxMs = Math.max(this.#gcMaxMs, entry.duration);
        this.#pauses.push({ startMs: entry.startTime, durationMs: entry.duration });
        if (this.#pauses.length > RECENT_GC_PAUSES) this.#pauses.shift();
      }
    });
    this.#observer.observe({ entryTypes: ["gc"] });
    let dueMs = performance.now() + this.#intervalMs;
    this.#timer = setInterval(() => {
      const ranMs = performance.now();
      this.#lateness.record(Math.max(1, Math.round((ranMs - dueMs) * 1000)));
      const stall = findStall(dueMs, ranMs, this.#stallMs, this.#pauses);
      if (stall) {
        this.#stalls++;
        this.#worstStallMs = Math.max(this.#worstStallMs, stall.lateMs);
        this.#log.warn("event loop stalled", {
          lateMs: Math.round(stall.lateMs),
          gcMs: Math.round(stall.gcMs),
        });
      }
      dueMs = ranMs + this.#intervalMs;
    }, this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#observer?.disconnect();
    this.#observer = null;
  }

  /** Starts the figures afresh (e.g. at the start of a measured window); the pauses kept for stalls stay. */
  reset(): void {
    this.#lateness.reset();
    this.#gcCount = 0;
    this.#gcTotalMs = 0;
    this.#gcMaxMs = 0;
    this.#stalls = 0;
    this.#worstStallMs = 0;
  }

  snapshot(): EventLoopFigures {
    const ms = (us: number) => Math.round(us / 10) / 100;
    const checks = this.#lateness.count;
    return {
      lateMs: {
        checks,
        p50: checks > 0 ? ms(this.#lateness.percentile(50)) : null,
        p99: checks > 0 ? ms(this.#lateness.percentile(99)) : null,
        max: checks > 0 ? ms(this.#lateness.max) : null,
      },
      stalls: { count: this.#stalls, worstMs: Math.round(this.#worstStallMs), thresholdMs: this.#stallMs },
      gc: { count: this.#gcCount, totalMs: Math.round(this.#gcTotalMs), maxMs: Math.round(this.#gcMaxMs) },
    };
  }
}

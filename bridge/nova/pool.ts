/**
 * A standing pool of Nova Sonic streams opened ahead of the calls that will use them. The AWS SDK opens
 * one HTTP/2 connection per stream and a session serves one call (REFERENCE §2), so warmth means: the
 * stream, with sessionStart, promptStart and the system prompt (fixed per deployment), was sent before the
 * call arrived, and the connection set-up is behind it. A stream leaves the pool for exactly one call.
 *
 * Size: pool-sizing.ts (configured bounds, recent call rate × measured set-up time). Every stream is
 * retired at `maxAgeMs` (below the service's session limit and the HTTP/2 idle timeouts, so that a call
 * gets nearly all of its 8 minutes) and its replacement is opened before that, so a retiring stream
 * never leaves a gap. A stream that fails while it waits is dropped; failed opens back off exponentially
 * (throttling). `close()` ends the unused streams in protocol order.
 */
import type { Logger } from "../../shared/log.ts";
import { ArrivalRate, MovingAverage, reopenDelayMs, targetPoolSize } from "./pool-sizing.ts";

/** What the pool needs of a stream. */
export interface PoolStream {
  /** Names the stream in logs. */
  readonly key: string;
  /** False once the stream has failed or been closed. */
  readonly isOpen: boolean;
  /** Settles true when the service accepted the stream (ready for audio), false if it ended first. */
  readonly accepted: Promise<boolean>;
  /** Ends the stream in protocol order. */
  close(): Promise<void>;
}

export interface SessionPoolOptions<S extends PoolStream> {
  open(): S;
  minSize: number;
  maxSize: number;
  /** A stream older than this is closed (and replaced if the pool still needs it). */
  maxAgeMs: number;
  /** The time constant of the arrival-rate estimate. */
  rateWindowMs?: number;
  /** Set-up time assumed before one has been measured. */
  initialSetupMs?: number;
  /** How often the pool checks ages, failures and its size. */
  maintainEveryMs?: number;
  logger: Logger;
  now: () => number;
}

export interface PoolStats {
  /** Streams in the pool (ready or still connecting). */
  size: number;
  ready: number;
  target: number;
  /** Calls that took a pooled stream, and calls that found the pool empty. */
  hits: number;
  misses: number;
  /** Of the hits, how many took a stream still connecting. */
  hitsConnecting: number;
  opened: number;
  retired: number;
  /** Opens that failed (refused, throttled), and ready streams that ended while they waited. */
  failed: number;
  lost: number;
  arrivalsPerMinute: number;
  setupMs: number;
}

interface Entry<S> {
  stream: S;
  openedAtMs: number;
  readyAtMs: number | null;
}

const DEFAULT_RATE_WINDOW_MS = 60_000;
const DEFAULT_SETUP_MS = 300;
const DEFAULT_MAINTAIN_EVERY_MS = 1000;

export class SessionPool<S extends PoolStream> {
  readonly #o: SessionPoolOptions<S>;
  readonly #log: Logger;
  readonly #rate: ArrivalRate;
  readonly #setup: MovingAverage;
  #entries: Entry<S>[] = [];
  #timer: NodeJS.Timeout | null = null;
  #maintenanceQueued = false;
  #closed = false;
  #failuresInRow = 0;
  #nextOpenAtMs = 0;
  readonly #counts = { hits: 0, misses: 0, hitsConnecting: 0, opened: 0, retired: 0, failed: 0, lost: 0 };

  constructor(options: SessionPoolOptions<S>) {
    this.#o = options;
    this.#log = options.logger.child({ component: "session-pool" });
    this.#rate = new ArrivalRate(options.rateWindowMs ?? DEFAULT_RATE_WINDOW_MS);
    this.#setup = new MovingAverage(0.2, options.initialSetupMs ?? DEFAULT_SETUP_MS);
  }

  /** Fills the pool and keeps it maintained until close(). */
  start(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setInterval(() => this.#maintain(), this.#o.maintainEveryMs ?? DEFAULT_MAINTAIN_EVERY_MS);
    this.#timer.unref();
    this.#maintain();
  }

  /**
   * A stream for one call (it leaves the pool for good), or null when none is open: the caller then opens
   * one itself. A ready stream is preferred, the oldest first (it would be retired soonest).
   */
  take(): S | null {
    const nowMs = this.#o.now();
    this.#rate.arrive(nowMs);
    this.#dropClosed();
    const ready = this.#entries.find((entry) => entry.readyAtMs !== null);
    const chosen = ready ?? this.#entries[0];
    if (chosen) {
      this.#entries = this.#entries.filter((entry) => entry !== chosen);
      this.#counts.hits++;
      if (chosen.readyAtMs === null) this.#counts.hitsConnecting++;
    } else this.#counts.misses++;
    this.#queueMaintenance();
    return chosen?.stream ?? null;
  }

  /** Streams ready for audio now. */
  get readyCount(): number {
    return this.#entries.filter((entry) => entry.readyAtMs !== null && entry.stream.isOpen).length;
  }

  stats(): PoolStats {
    const nowMs = this.#o.now();
    return {
      size: this.#entries.length,
      ready: this.readyCount,
      target: this.#target(nowMs),
      ...this.#counts,
      arrivalsPerMinute: Math.round(this.#rate.perSecond(nowMs) * 60 * 100) / 100,
      setupMs: Math.round(this.#setup.value * 10) / 10,
    };
  }

  /** Stops maintaining and closes every unused stream in protocol order. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    const entries = this.#entries;
    this.#entries = [];
    await Promise.allSettled(entries.map((entry) => entry.stream.close()));
  }

  #target(nowMs: number): number {
    return targetPoolSize({
      arrivalsPerSecond: this.#rate.perSecond(nowMs),
      setupMs: this.#setup.value,
      minSize: this.#o.minSize,
      maxSize: this.#o.maxSize,
    });
  }

  #queueMaintenance(): void {
    if (this.#maintenanceQueued || this.#closed) return;
    this.#maintenanceQueued = true;
    setImmediate(() => {
      this.#maintenanceQueued = false;
      this.#maintain();
    });
  }

  #maintain(): void {
    if (this.#closed) return;
    const nowMs = this.#o.now();
    this.#dropClosed();
    // Retire the streams that reached their age limit.
    for (const entry of this.#entries.filter((e) => nowMs - e.openedAtMs >= this.#o.maxAgeMs)) {
      this.#entries = this.#entries.filter((e) => e !== entry);
      this.#counts.retired++;
      this.#log.debug("pooled stream retired", { stream: entry.stream.key });
      void entry.stream.close();
    }
    // Replacements open early enough to be ready when the streams they replace retire.
    const refreshLeadMs = Math.max(1000, 2 * this.#setup.value);
    const fresh = this.#entries.filter((e) => nowMs - e.openedAtMs < this.#o.maxAgeMs - refreshLeadMs);
    const target = this.#target(nowMs);
    let missing = target - fresh.length;
    while (missing > 0 && this.#entries.length < 2 * this.#o.maxSize && nowMs >= this.#nextOpenAtMs) {
      this.#open(nowMs);
      missing--;
    }
  }

  #open(nowMs: number): void {
    let stream: S;
    try {
      stream = this.#o.open();
    } catch (error) {
      this.#opened(false);
      this.#log.warn("pooled stream could not be opened", { error: String(error) });
      return;
    }
    const entry: Entry<S> = { stream, openedAtMs: nowMs, readyAtMs: null };
    this.#entries.push(entry);
    this.#counts.opened++;
    void stream.accepted.then((accepted) => {
      const readyAtMs = this.#o.now();
      if (accepted) {
        entry.readyAtMs = readyAtMs;
        this.#setup.add(readyAtMs - entry.openedAtMs);
      }
      this.#opened(accepted);
      if (!accepted && this.#entries.includes(entry)) {
        this.#log.warn("pooled stream failed before it was used", { stream: stream.key });
        this.#queueMaintenance();
      }
    });
  }

  #opened(ok: boolean): void {
    if (ok) {
      this.#failuresInRow = 0;
      this.#nextOpenAtMs = 0;
      return;
    }
    this.#counts.failed++;
    this.#failuresInRow++;
    this.#nextOpenAtMs = this.#o.now() + reopenDelayMs(this.#failuresInRow);
  }

  #dropClosed(): void {
    const closed = this.#entries.filter((entry) => !entry.stream.isOpen);
    if (closed.length === 0) return;
    this.#entries = this.#entries.filter((entry) => entry.stream.isOpen);
    for (const entry of closed) {
      if (entry.readyAtMs !== null) {
        this.#counts.lost++;
        this.#log.warn("pooled stream ended while it waited", { stream: entry.stream.key });
      }
      void entry.stream.close();
    }
  }
}

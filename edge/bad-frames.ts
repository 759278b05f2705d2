/**
 * Counts of dropped frames for one call, by side and reason (`twilio.bad_json`), logged with their code
 * at the 1st, 10th, 100th… occurrence so that a flood of bad frames does not become a flood of log lines.
 */
import type { Logger } from "../shared/log.ts";

export type FrameSide = "twilio" | "bridge";

export class BadFrames {
  readonly #log: Logger;
  #counts = new Map<string, number>();

  constructor(log: Logger) {
    this.#log = log;
  }

  count(side: FrameSide, reason: string, detail?: string): void {
    const kind = `${side}.${reason}`;
    const count = (this.#counts.get(kind) ?? 0) + 1;
    this.#counts.set(kind, count);
    if (/^10*$/.test(String(count))) this.#log.warn("frame dropped", { code: reason, side, count, detail });
  }

  /** The counts since the last take (to store them); counting starts afresh. */
  take(): Map<string, number> {
    const counts = this.#counts;
    this.#counts = new Map();
    return counts;
  }

  peek(): ReadonlyMap<string, number> {
    return this.#counts;
  }
}

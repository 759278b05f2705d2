/**
 * Counters of model sessions: how many were opened, switched to before the limit (by reason), failed (by
 * error code), recovered, retried at start, and how many calls the model's failures ended. One instance per
 * call (its summary is logged when the call ends) and one per bridge (in /healthz).
 */
import type { SwitchReason } from "./session-policy.ts";

export interface SessionCounters {
  sessionsOpened: number;
  switches: Record<SwitchReason, number>;
  /** Session failures by error code (start, mid-call and standby sessions alike). */
  failures: Record<string, number>;
  /** Fresh sessions that took over after a mid-call failure. */
  recoveries: number;
  /** Session starts retried after a failure (throttling, unavailability). */
  startRetries: number;
  /** Calls ended with a goodbye because the model kept failing. */
  callsEndedByModelFailure: number;
  /** Caller audio sent again to a new session (speech the old one never answered), in PCM bytes. */
  replayedAudioBytes: number;
}

export class SessionStats {
  readonly #counters: SessionCounters = {
    sessionsOpened: 0,
    switches: { quiet: 0, forced: 0, deadline: 0 },
    failures: {},
    recoveries: 0,
    startRetries: 0,
    callsEndedByModelFailure: 0,
    replayedAudioBytes: 0,
  };

  opened(): void {
    this.#counters.sessionsOpened++;
  }

  switched(reason: SwitchReason): void {
    this.#counters.switches[reason]++;
  }

  failed(code: string): void {
    this.#counters.failures[code] = (this.#counters.failures[code] ?? 0) + 1;
  }

  recovered(): void {
    this.#counters.recoveries++;
  }

  startRetried(): void {
    this.#counters.startRetries++;
  }

  gaveUp(): void {
    this.#counters.callsEndedByModelFailure++;
  }

  replayed(bytes: number): void {
    this.#counters.replayedAudioBytes += bytes;
  }

  snapshot(): SessionCounters {
    return structuredClone(this.#counters);
  }
}

/**
 * What the simulator remembers of each session, for tests and benchmarks: the input events in order, the
 * turns with their timestamps (epoch ms with sub-millisecond precision, performance.timeOrigin +
 * performance.now()), the latency drawn, and how the session ended. Served by GET /_sim/sessions.
 */
import type { Fault } from "./faults.ts";

export function preciseNowMs(): number {
  return performance.timeOrigin + performance.now();
}

export type TurnTrigger = "audio" | "text" | "tool_result";
export type TurnOutcome = "pending" | "completed" | "interrupted" | "cancelled" | "tool_use" | "abandoned";

export interface TurnRecord {
  index: number;
  trigger: TurnTrigger;
  /** USER transcript reported for the turn (none for a tool-result turn). */
  transcript: string | undefined;
  /** Arrival of the last audioInput frame that held speech (audio turns). */
  lastSpeechFrameAtMs: number | undefined;
  /** When the turn was detected as ended: endpointing for audio, contentEnd for text and tool results. */
  endpointAtMs: number;
  /** Speech length, onset to last voiced block (audio turns). */
  speechMs: number | undefined;
  modelLatencyMs: number;
  firstAudioOutAtMs: number | undefined;
  replyId: string | undefined;
  replyDurationMs: number | undefined;
  toolUse: { toolName: string; toolUseId: string } | undefined;
  outcome: TurnOutcome;
  interruptedAtMs: number | undefined;
}

export interface SessionRecord {
  id: string;
  modelId: string;
  /** Request arrival (after any connection set-up delay). */
  openedAtMs: number;
  endedAtMs: number | undefined;
  endReason: string | undefined;
  faults: Fault[];
  promptName: string | undefined;
  inputSampleRateHz: number | undefined;
  outputSampleRateHz: number | undefined;
  /** The voice promptStart asked for. */
  voiceId: string | undefined;
  endpointingSensitivity: string | undefined;
  pauseMs: number | undefined;
  history: { role: string; text: string }[];
  /** Input events other than audioInput, in order of arrival (bounded). */
  received: string[];
  audioInputFrames: number;
  audioInputBytes: number;
  /** Arrival of the first and the last audioInput (continuity of the caller's audio across sessions). */
  firstAudioInputAtMs: number | undefined;
  lastAudioInputAtMs: number | undefined;
  /** Output events sent, by name. */
  sent: Record<string, number>;
  turns: TurnRecord[];
}

const MAX_RECEIVED = 2000;

export function newSessionRecord(
  id: string,
  modelId: string,
  faults: Fault[],
  openedAtMs: number,
): SessionRecord {
  return {
    id,
    modelId,
    openedAtMs,
    endedAtMs: undefined,
    endReason: undefined,
    faults,
    promptName: undefined,
    inputSampleRateHz: undefined,
    outputSampleRateHz: undefined,
    voiceId: undefined,
    endpointingSensitivity: undefined,
    pauseMs: undefined,
    history: [],
    received: [],
    audioInputFrames: 0,
    audioInputBytes: 0,
    firstAudioInputAtMs: undefined,
    lastAudioInputAtMs: undefined,
    sent: {},
    turns: [],
  };
}

export function noteReceived(record: SessionRecord, name: string): void {
  if (record.received.length < MAX_RECEIVED) record.received.push(name);
}

/** The last sessions, newest last; older ones are forgotten beyond the capacity. */
export class SessionRegistry {
  readonly #capacity: number;
  #records: SessionRecord[] = [];

  constructor(capacity = 500) {
    this.#capacity = capacity;
  }

  add(record: SessionRecord): void {
    this.#records.push(record);
    if (this.#records.length > this.#capacity) this.#records.splice(0, this.#records.length - this.#capacity);
  }

  list(): readonly SessionRecord[] {
    return this.#records;
  }

  get(id: string): SessionRecord | undefined {
    return this.#records.find((record) => record.id === id);
  }

  /** Forgets the sessions that have ended; live ones (e.g. a warm pool's) keep their records. */
  clearEnded(): void {
    this.#records = this.#records.filter((record) => record.endedAtMs === undefined);
  }
}

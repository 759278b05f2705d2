/**
 * One turn of a call, as the bridge records it: what the caller said, what the agent planned and said,
 * what the caller actually heard, and when each step happened. A turn is the caller's utterance (empty for
 * the greeting or a keypad press) and the agent's reply to it. Each reply owns an AbortController:
 * barge-in aborts it, and everything still arriving for an aborted reply is dropped.
 */
import type {
  CachedPromptId,
  TranscriptMessage,
  TurnMessage,
  TurnTimings,
} from "../shared/bridge-protocol.ts";
import type { PlayoutReport } from "./playback.ts";

export interface TurnRecord {
  index: number;
  userText: string[];
  /** ASSISTANT SPECULATIVE texts: what the model planned to say, sentence by sentence. */
  plannedText: string[];
  /** ASSISTANT FINAL texts: what the model says it spoke. */
  spokenText: string[];
  timings: { -readonly [K in keyof TurnTimings]: TurnTimings[K] };
  reply: AbortController;
  interruptedBy: "model" | "vad" | null;
  /** The model has started replying (text or audio). */
  replyStarted: boolean;
  /** The model said the reply is complete (END_TURN): more assistant output starts another turn. */
  replyEnded: boolean;
  /** The reply was a cached prompt (call-prompts.ts), not the model's speech. */
  cachedPrompt?: CachedPromptId;
}

export function newTurn(index: number): TurnRecord {
  return {
    index,
    userText: [],
    plannedText: [],
    spokenText: [],
    timings: {},
    reply: new AbortController(),
    interruptedBy: null,
    replyStarted: false,
    replyEnded: false,
  };
}

function joined(parts: readonly string[]): string {
  return parts
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .join(" ");
}

function roundedTimings(timings: TurnTimings): TurnTimings {
  const out: { -readonly [K in keyof TurnTimings]: TurnTimings[K] } = {};
  for (const [key, value] of Object.entries(timings) as Array<[keyof TurnTimings, number | undefined]>) {
    if (value !== undefined) out[key] = Math.round(value * 10) / 10;
  }
  return out;
}

export function turnMessage(turn: TurnRecord, report: PlayoutReport | null): TurnMessage {
  const assistantText = joined(turn.spokenText) || joined(turn.plannedText);
  return {
    bridge: "turn",
    turnIndex: turn.index,
    userText: joined(turn.userText),
    assistantText,
    heardText: report?.heardText ?? "",
    heardMs: report?.heardMs ?? 0,
    replyMs: report?.replyMs ?? 0,
    interrupted: report?.interrupted ?? turn.interruptedBy !== null,
    ...(turn.interruptedBy ? { interruptedBy: turn.interruptedBy } : {}),
    ...(turn.cachedPrompt ? { cachedPrompt: turn.cachedPrompt } : {}),
    timings: roundedTimings(turn.timings),
  } satisfies TurnMessage;
}

export function transcriptMessage(
  turnIndex: number,
  role: "USER" | "ASSISTANT",
  text: string,
  atMs: number,
): TranscriptMessage {
  return { bridge: "transcript", turnIndex, role, text, atMs: Math.round(atMs) } satisfies TranscriptMessage;
}

/**
 * What a bridge taking over a call is told about it (`resume`): the conversation so far, with the
 * assistant's part cut to what the caller actually heard. Pure.
 */
import {
  buildResume,
  type HistoryEntry,
  MAX_CONTROL_FRAME_CHARS,
  type ResumeMessage,
} from "../shared/bridge-protocol.ts";
import type { CallRecord, TurnRecord } from "./call-store.ts";

/** At most this many entries (the protocol allows 1000) and this many characters of text. */
export const MAX_HISTORY_ENTRIES = 1000;
export const MAX_HISTORY_CHARS = MAX_CONTROL_FRAME_CHARS / 2;

/**
 * Completed turns give the caller's words and the heard part of the reply; for the turn in progress only
 * the caller's words are known to be real. The oldest entries go first when the history is too long.
 */
export function resumeHistory(
  turns: readonly TurnRecord[],
  transcript: CallRecord["transcript"],
): HistoryEntry[] {
  const entries: HistoryEntry[] = [];
  const completed = new Set<number>();
  for (const turn of [...turns].sort((a, b) => a.turnIndex - b.turnIndex)) {
    completed.add(turn.turnIndex);
    if (turn.userText !== "") entries.push({ role: "USER", text: turn.userText });
    if (turn.heardText !== "") entries.push({ role: "ASSISTANT", text: turn.heardText });
  }
  for (const line of transcript) {
    if (!completed.has(line.turnIndex) && line.role === "USER" && line.text !== "") {
      entries.push({ role: "USER", text: line.text });
    }
  }
  let chars = 0;
  let first = entries.length;
  while (first > 0 && entries.length - first < MAX_HISTORY_ENTRIES) {
    const entry = entries[first - 1];
    if (!entry || chars + entry.text.length > MAX_HISTORY_CHARS) break;
    chars += entry.text.length;
    first--;
  }
  return entries.slice(first);
}

export function buildResumeFrame(args: {
  callSid: string;
  reason: ResumeMessage["reason"];
  turns: readonly TurnRecord[];
  transcript: CallRecord["transcript"];
  callStartedAtMs: number;
}): string {
  return buildResume({
    callSid: args.callSid,
    reason: args.reason,
    history: resumeHistory(args.turns, args.transcript),
    turnsCompleted: args.turns.length,
    callStartedAtMs: args.callStartedAtMs,
  });
}

/**
 * Which simulator session served which call. The simulator knows nothing of call SIDs, so a session is
 * recognised by what the caller said and when: each phone turn (text, last speech frame sent) must find
 * a simulator turn with the same transcript whose last speech frame arrived shortly after. The pairs
 * that explain the most turns at the smallest total gap are taken first, each call and session once.
 */

export interface PhoneSpeech {
  text: string;
  /** When the phone sent the last voiced frame. */
  speechEndMs: number;
}

export interface SimSpeech {
  transcript: string | undefined;
  /** When the simulator received the last voiced frame. */
  lastSpeechFrameAtMs: number | undefined;
}

export interface CallSpeech {
  callIndex: number;
  turns: readonly PhoneSpeech[];
}

export interface SessionSpeech {
  sessionId: string;
  turns: readonly SimSpeech[];
}

export interface SessionMatch {
  sessionId: string;
  /** Phone turns that found their simulator turn, of all the call's turns. */
  matchedTurns: number;
  totalTurns: number;
  /** Sum of |arrival − send| over the matched turns. */
  gapMs: number;
}

/** How far a simulator arrival may fall from the phone's send: a little early (clock reads), well late. */
export const MATCH_WINDOW = { earliestMs: -50, latestMs: 3000 } as const;

/** The simulator turn that heard this phone turn: same words, arrival closest after the send. */
export function simTurnFor<T extends SimSpeech>(phone: PhoneSpeech, turns: readonly T[]): T | undefined {
  let best: T | undefined;
  let bestGap = Number.POSITIVE_INFINITY;
  for (const turn of turns) {
    if (turn.transcript !== phone.text || turn.lastSpeechFrameAtMs === undefined) continue;
    const gap = turn.lastSpeechFrameAtMs - phone.speechEndMs;
    if (gap < MATCH_WINDOW.earliestMs || gap > MATCH_WINDOW.latestMs) continue;
    if (Math.abs(gap) < bestGap) {
      best = turn;
      bestGap = Math.abs(gap);
    }
  }
  return best;
}

function score(call: CallSpeech, session: SessionSpeech): SessionMatch | null {
  let matchedTurns = 0;
  let gapMs = 0;
  for (const phone of call.turns) {
    const turn = simTurnFor(phone, session.turns);
    if (!turn || turn.lastSpeechFrameAtMs === undefined) continue;
    matchedTurns += 1;
    gapMs += Math.abs(turn.lastSpeechFrameAtMs - phone.speechEndMs);
  }
  if (matchedTurns === 0) return null;
  return { sessionId: session.sessionId, matchedTurns, totalTurns: call.turns.length, gapMs };
}

/** Call index → its session; calls without a plausible session are absent. */
export function matchSessions(
  calls: readonly CallSpeech[],
  sessions: readonly SessionSpeech[],
): Map<number, SessionMatch> {
  const candidates: Array<{ callIndex: number; match: SessionMatch }> = [];
  for (const call of calls) {
    for (const session of sessions) {
      const match = score(call, session);
      if (match) candidates.push({ callIndex: call.callIndex, match });
    }
  }
  candidates.sort((x, y) => y.match.matchedTurns - x.match.matchedTurns || x.match.gapMs - y.match.gapMs);
  const byCall = new Map<number, SessionMatch>();
  const takenSessions = new Set<string>();
  for (const { callIndex, match } of candidates) {
    if (byCall.has(callIndex) || takenSessions.has(match.sessionId)) continue;
    byCall.set(callIndex, match);
    takenSessions.add(match.sessionId);
  }
  return byCall;
}

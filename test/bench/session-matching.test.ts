import { describe, expect, it } from "vitest";
import { matchSessions, simTurnFor } from "./session-matching.ts";

const T0 = 1_800_000_000_000;

describe("matching simulator sessions to calls", () => {
  it("pairs calls that said the same words by when they said them", () => {
    const calls = [
      {
        callIndex: 0,
        turns: [
          { text: "hello", speechEndMs: T0 + 1000 },
          { text: "bye", speechEndMs: T0 + 5000 },
        ],
      },
      {
        callIndex: 1,
        turns: [
          { text: "hello", speechEndMs: T0 + 1040 },
          { text: "bye", speechEndMs: T0 + 5100 },
        ],
      },
    ];
    const sessions = [
      {
        sessionId: "b",
        turns: [
          { transcript: "hello", lastSpeechFrameAtMs: T0 + 1041 },
          { transcript: "bye", lastSpeechFrameAtMs: T0 + 5101.5 },
        ],
      },
      {
        sessionId: "a",
        turns: [
          { transcript: "hello", lastSpeechFrameAtMs: T0 + 1001 },
          { transcript: "bye", lastSpeechFrameAtMs: T0 + 5002 },
        ],
      },
    ];
    const matches = matchSessions(calls, sessions);
    expect(matches.get(0)?.sessionId).toBe("a");
    expect(matches.get(1)?.sessionId).toBe("b");
    expect(matches.get(0)).toMatchObject({ matchedTurns: 2, totalTurns: 2, gapMs: 3 });
  });

  it("prefers the session that explains more turns, and leaves a call without one unmatched", () => {
    const calls = [
      {
        callIndex: 0,
        turns: [
          { text: "one", speechEndMs: T0 },
          { text: "two", speechEndMs: T0 + 3000 },
        ],
      },
      { callIndex: 1, turns: [{ text: "three", speechEndMs: T0 }] },
    ];
    const sessions = [
      { sessionId: "partial", turns: [{ transcript: "one", lastSpeechFrameAtMs: T0 + 0.5 }] },
      {
        sessionId: "full",
        turns: [
          { transcript: "one", lastSpeechFrameAtMs: T0 + 2 },
          { transcript: "two", lastSpeechFrameAtMs: T0 + 3002 },
        ],
      },
    ];
    const matches = matchSessions(calls, sessions);
    expect(matches.get(0)?.sessionId).toBe("full");
    expect(matches.has(1)).toBe(false);
  });

  it("finds a turn only for the same words, arriving after the send within the window", () => {
    const phone = { text: "hello", speechEndMs: T0 };
    expect(simTurnFor(phone, [{ transcript: "hullo", lastSpeechFrameAtMs: T0 + 1 }])).toBeUndefined();
    expect(simTurnFor(phone, [{ transcript: "hello", lastSpeechFrameAtMs: T0 - 500 }])).toBeUndefined();
    expect(simTurnFor(phone, [{ transcript: "hello", lastSpeechFrameAtMs: undefined }])).toBeUndefined();
    const near = { transcript: "hello", lastSpeechFrameAtMs: T0 + 2 };
    expect(simTurnFor(phone, [{ transcript: "hello", lastSpeechFrameAtMs: T0 + 900 }, near])).toBe(near);
  });
});

import { describe, expect, it } from "vitest";
import { parseEdgeControl } from "../shared/bridge-protocol.ts";
import type { TurnRecord } from "./call-store.ts";
import { buildResumeFrame, MAX_HISTORY_CHARS, resumeHistory } from "./resume-history.ts";

function turn(turnIndex: number, userText: string, assistantText: string, heardText: string): TurnRecord {
  return {
    turnIndex,
    userText,
    assistantText,
    heardText,
    heardMs: 1000,
    replyMs: 2000,
    interrupted: heardText !== assistantText,
    timings: {},
    atMs: 1000 + turnIndex,
  };
}

describe("resumeHistory", () => {
  it("keeps what the caller heard, and the caller's words of the turn in progress", () => {
    const turns = [
      turn(1, "what time is it", "It is noon. Anything else?", "It is noon."),
      turn(0, "", "Hello!", "Hello!"),
    ];
    const transcript = [
      { turnIndex: 0, role: "ASSISTANT" as const, text: "Hello!", atMs: 1 },
      { turnIndex: 1, role: "USER" as const, text: "what time is it", atMs: 2 },
      { turnIndex: 2, role: "USER" as const, text: "and the date", atMs: 3 },
      { turnIndex: 2, role: "ASSISTANT" as const, text: "It is the", atMs: 4 },
    ];
    expect(resumeHistory(turns, transcript)).toEqual([
      { role: "ASSISTANT", text: "Hello!" },
      { role: "USER", text: "what time is it" },
      { role: "ASSISTANT", text: "It is noon." },
      { role: "USER", text: "and the date" },
    ]);
  });

  it("drops the oldest entries when the history is too long", () => {
    const long = "x".repeat(MAX_HISTORY_CHARS / 2);
    const turns = [turn(0, long, long, long), turn(1, "recent", "reply", "reply")];
    const history = resumeHistory(turns, []);
    expect(history).toEqual([
      { role: "ASSISTANT", text: long },
      { role: "USER", text: "recent" },
      { role: "ASSISTANT", text: "reply" },
    ]);
  });

  it("builds a resume frame the bridge can parse", () => {
    const callSid = `CA${"0".repeat(32)}`;
    const frame = buildResumeFrame({
      callSid,
      reason: "handover",
      turns: [turn(0, "hi", "hello", "hello")],
      transcript: [],
      callStartedAtMs: 5,
    });
    expect(parseEdgeControl(frame)).toMatchObject({
      bridge: "resume",
      callSid,
      reason: "handover",
      turnsCompleted: 1,
      history: [
        { role: "USER", text: "hi" },
        { role: "ASSISTANT", text: "hello" },
      ],
    });
  });
});

import { describe, expect, it } from "vitest";
import { CallTurns } from "./call-turns.ts";

const report = {
  turnIndex: 0,
  replyMs: 2000,
  sentMs: 2000,
  heardMs: 800,
  heardText: "Hello there",
  text: "Hello there, how can I help?",
  interrupted: true,
};

describe("CallTurns", () => {
  it("does not take our own greeting request for the caller, and labels keypad turns", () => {
    const turns = new CallTurns();
    turns.sentOwnText("Greet the caller.", "");
    expect(turns.userText("Greet the caller.", 1)).toMatchObject({ spoken: false, message: null });
    expect(turns.replyTurn()).toMatchObject({ started: true, turn: { index: 0 } });
    turns.current!.replyEnded = true;
    turns.sentOwnText('The caller pressed "5".', "[keypad 5]");
    const keypad = turns.userText('The caller pressed "5".', 2);
    expect(keypad).toMatchObject({ spoken: false, turn: { index: 1, userText: ["[keypad 5]"] } });
    expect(keypad.message).toMatchObject({ role: "USER", text: "[keypad 5]", turnIndex: 1 });
    const spoken = turns.userText("what time is it", 3);
    expect(spoken).toMatchObject({ spoken: true, turn: { index: 1 } });
  });

  it("starts a new turn for a new transcript after a reply, or for output after END_TURN", () => {
    const turns = new CallTurns();
    turns.userText("hello", 0);
    expect(turns.replyTurn()?.started).toBe(true);
    expect(turns.replyTurn()?.started).toBe(false);
    expect(turns.userText("are you there", 1).turn.index).toBe(1);
    turns.replyTurn();
    turns.current!.replyEnded = true;
    expect(turns.replyTurn()).toMatchObject({ started: true, turn: { index: 2, userText: [] } });
  });

  it("drops output for a cut reply, and reports a finished turn once", () => {
    const turns = new CallTurns();
    turns.continueFrom(5);
    turns.userText("hello", 0);
    const turn = turns.replyTurn()!.turn;
    turn.plannedText.push("Hello there, how can I help?");
    turn.reply.abort();
    turn.interruptedBy = "vad";
    expect(turns.replyTurn()).toBeNull();
    const finished = turns.finish(5, { ...report, turnIndex: 5 }, 42);
    expect(finished?.transcript).toEqual({
      bridge: "transcript",
      turnIndex: 5,
      role: "ASSISTANT",
      text: "Hello there",
      atMs: 42,
    });
    expect(finished?.turn).toMatchObject({
      turnIndex: 5,
      userText: "hello",
      assistantText: "Hello there, how can I help?",
      heardText: "Hello there",
      heardMs: 800,
      interrupted: true,
      interruptedBy: "vad",
    });
    expect(turns.finish(5, null, 43)).toBeNull();
  });
});

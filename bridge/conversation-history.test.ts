import { describe, expect, it } from "vitest";
import { ConversationHistory } from "./conversation-history.ts";

const OPENING = "The caller has just connected. Greet them.";

function transcript(role: "USER" | "ASSISTANT", text: string) {
  return { bridge: "transcript" as const, turnIndex: 0, role, text, atMs: 0 };
}

describe("ConversationHistory", () => {
  it("keeps transcripts in order, opening with the greeting request when the agent spoke first", () => {
    const history = new ConversationHistory(OPENING);
    expect(history.entries()).toEqual([]);
    expect(history.agentHeard).toBe(false);
    history.record(transcript("ASSISTANT", "Hello, how can I help?"));
    history.record({ bridge: "hangup", reason: "agent" });
    history.record(transcript("USER", "What time do you open?"));
    history.record(transcript("ASSISTANT", "We open at nine."));
    expect(history.agentHeard).toBe(true);
    expect(history.entries()).toEqual([
      { role: "USER", text: OPENING },
      { role: "ASSISTANT", text: "Hello, how can I help?" },
      { role: "USER", text: "What time do you open?" },
      { role: "ASSISTANT", text: "We open at nine." },
    ]);
  });

  it("merges consecutive texts of one role and skips empty ones", () => {
    const history = new ConversationHistory(OPENING);
    history.add("USER", "[keypad 5]");
    history.add("USER", "  ");
    history.add("USER", "and my order number");
    history.add("ASSISTANT", "Sorry, one moment.");
    history.add("ASSISTANT", "Your order has shipped.");
    expect(history.entries()).toEqual([
      { role: "USER", text: "[keypad 5] and my order number" },
      { role: "ASSISTANT", text: "Sorry, one moment. Your order has shipped." },
    ]);
    expect(history.length).toBe(2);
  });

  it("counts a reply still playing as heard", () => {
    const history = new ConversationHistory(OPENING);
    history.seed([{ role: "USER", text: "Hi" }]);
    expect(history.entries("We are open until five.")).toEqual([
      { role: "USER", text: "Hi" },
      { role: "ASSISTANT", text: "We are open until five." },
    ]);
    history.add("ASSISTANT", "Hello.");
    expect(history.entries(" Anything else? ").at(-1)).toEqual({
      role: "ASSISTANT",
      text: "Hello. Anything else?",
    });
  });
});

import { describe, expect, it } from "vitest";
import { parseNovaOutputEvent } from "../shared/nova-events.ts";
import { ModelReplies } from "./model-replies.ts";

const ids = { sessionId: "s1", promptName: "p1", completionId: "c1" };

function event(name: string, body: Record<string, unknown>) {
  return parseNovaOutputEvent(JSON.stringify({ event: { [name]: { ...ids, ...body } } }));
}

function contentStart(contentId: string, type: string, role: string, stage?: string) {
  return event("contentStart", {
    contentId,
    type,
    role,
    ...(stage ? { additionalModelFields: JSON.stringify({ generationStage: stage }) } : {}),
  });
}

describe("ModelReplies", () => {
  it("reads a whole reply: transcript, planned text, audio, spoken text, end", () => {
    const replies = new ModelReplies();
    const steps = [
      contentStart("u1", "TEXT", "USER", "FINAL"),
      event("textOutput", { contentId: "u1", content: "what are your hours" }),
      event("contentEnd", { contentId: "u1", type: "TEXT", stopReason: "END_TURN" }),
      contentStart("a1", "TEXT", "ASSISTANT", "SPECULATIVE"),
      event("textOutput", { contentId: "a1", content: "We open at nine." }),
      event("contentEnd", { contentId: "a1", type: "TEXT", stopReason: "PARTIAL_TURN" }),
      contentStart("a2", "AUDIO", "ASSISTANT"),
      event("audioOutput", { contentId: "a2", content: "AAABAA==" }),
      event("contentEnd", { contentId: "a2", type: "AUDIO", stopReason: "PARTIAL_TURN" }),
      contentStart("a3", "TEXT", "ASSISTANT", "FINAL"),
      event("textOutput", { contentId: "a3", content: "We open at nine." }),
      event("contentEnd", { contentId: "a3", type: "TEXT", stopReason: "END_TURN" }),
    ].map((e) => replies.accept(e));
    expect(steps.filter((step) => step.kind !== "none")).toEqual([
      { kind: "user-text", text: "what are your hours" },
      { kind: "reply-text", text: "We open at nine." },
      { kind: "reply-audio", pcm: new Uint8Array([0, 0, 1, 0]) },
      { kind: "spoken-text", text: "We open at nine." },
      { kind: "reply-end" },
    ]);
  });

  it("recognises both barge-in signals and tool calls", () => {
    const replies = new ModelReplies();
    replies.accept(contentStart("a1", "TEXT", "ASSISTANT", "SPECULATIVE"));
    expect(
      replies.accept(event("textOutput", { contentId: "a1", content: '{ "interrupted" : true }' })),
    ).toEqual({
      kind: "interrupted",
    });
    replies.accept(contentStart("a2", "AUDIO", "ASSISTANT"));
    expect(
      replies.accept(event("contentEnd", { contentId: "a2", type: "AUDIO", stopReason: "INTERRUPTED" })),
    ).toEqual({ kind: "interrupted" });
    replies.accept(contentStart("t1", "TOOL", "TOOL"));
    expect(
      replies.accept(
        event("toolUse", { contentId: "t1", toolName: "hang_up", toolUseId: "tu1", content: "{}" }),
      ),
    ).toEqual({ kind: "tool-use", toolName: "hang_up", toolUseId: "tu1", input: "{}" });
    expect(
      replies.accept(event("contentEnd", { contentId: "t1", type: "TOOL", stopReason: "TOOL_USE" })),
    ).toEqual({
      kind: "none",
    });
  });
});

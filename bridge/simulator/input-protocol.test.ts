import { describe, expect, it } from "vitest";
import {
  audioContentStartEvent,
  audioInputEvent,
  contentEndEvent,
  type NovaInputEvent,
  parseNovaInputEvent,
  promptEndEvent,
  promptStartEvent,
  sessionEndEvent,
  sessionStartEvent,
  textContentStartEvent,
  textInputEvent,
  toolContentStartEvent,
  toolResultEvent,
} from "../../shared/nova-events.ts";
import { type InputEffect, InputProtocol } from "./input-protocol.ts";

const P = "prompt-1";
const opening: NovaInputEvent[] = [
  sessionStartEvent({ maxTokens: 100, topP: 0.9, temperature: 0.5, endpointingSensitivity: "LOW" }),
  promptStartEvent({ promptName: P, outputSampleRateHz: 24000, voiceId: "matthew" }),
];
const text = (name: string, role: "SYSTEM" | "USER" | "ASSISTANT", interactive: boolean, content: string) => [
  textContentStartEvent(P, name, role, interactive),
  textInputEvent(P, name, content),
  contentEndEvent(P, name),
];

function feed(protocol: InputProtocol, events: NovaInputEvent[]): InputEffect[] {
  return events.map((event) => protocol.accept(parseNovaInputEvent(JSON.stringify(event))));
}

function violation(events: NovaInputEvent[], setup?: (protocol: InputProtocol) => void): string {
  const protocol = new InputProtocol({ maxMessages: 3, maxMessageBytes: 32 });
  setup?.(protocol);
  try {
    feed(protocol, events);
  } catch (error) {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
  return "accepted";
}

describe("InputProtocol", () => {
  it("accepts a whole documented session and reports what each part means", () => {
    const protocol = new InputProtocol();
    const effects = feed(protocol, [
      ...opening,
      ...text("sys", "SYSTEM", false, "Be brief."),
      ...text("h1", "USER", false, "Hi"),
      ...text("h2", "ASSISTANT", false, "Hello!"),
      audioContentStartEvent(P, "audio", 8000),
      audioInputEvent(P, "audio", "AAD//w=="),
      ...text("t1", "USER", true, "caller pressed 5"),
      contentEndEvent(P, "audio"),
      promptEndEvent(P),
      sessionEndEvent(),
    ]).filter((effect) => effect.kind !== "none");
    expect(effects.map((effect) => effect.kind)).toEqual([
      "session_start",
      "prompt_start",
      "system_prompt",
      "history",
      "history",
      "audio_start",
      "audio",
      "user_text",
      "audio_end",
      "prompt_end",
      "session_end",
    ]);
    expect(effects[0]).toMatchObject({ endpointingSensitivity: "LOW" });
    expect(effects[4]).toEqual({ kind: "history", role: "ASSISTANT", text: "Hello!" });
    expect(effects[7]).toEqual({ kind: "user_text", text: "caller pressed 5" });
  });

  it("refuses events out of order", () => {
    expect(violation([opening[1] as NovaInputEvent])).toMatch(/promptStart must follow sessionStart/);
    expect(violation([...opening, opening[0] as NovaInputEvent])).toMatch(/sessionStart must be the first/);
    expect(violation([opening[0] as NovaInputEvent, audioContentStartEvent(P, "a", 8000)])).toMatch(
      /contentStart needs an open prompt/,
    );
    expect(violation([...opening, sessionEndEvent()])).toMatch(/sessionEnd must follow promptEnd/);
    expect(violation([...opening, promptEndEvent(P), sessionEndEvent(), promptEndEvent(P)])).toMatch(
      /after sessionEnd/,
    );
  });

  it("refuses a system prompt after other content, history after audio, and ASSISTANT-first history", () => {
    expect(
      violation([...opening, ...text("h", "USER", false, "hi"), ...text("s", "SYSTEM", false, "x")]),
    ).toMatch(/SYSTEM prompt must be the first content/);
    expect(
      violation([...opening, audioContentStartEvent(P, "a", 16000), ...text("h", "USER", false, "late")]),
    ).toMatch(/history must come before audio/);
    expect(violation([...opening, ...text("h", "ASSISTANT", false, "Hello")])).toMatch(
      /first history message must have the USER role/,
    );
    expect(violation([...opening, ...text("t", "ASSISTANT", true, "x")])).toMatch(
      /interactive text must have the USER role/,
    );
  });

  it("enforces the history limits", () => {
    const four = ["a", "b", "c", "d"].flatMap((name, index) =>
      text(name, index % 2 ? "ASSISTANT" : "USER", false, name),
    );
    expect(violation([...opening, ...four])).toMatch(/more than 3 history messages/);
    expect(violation([...opening, ...text("h", "USER", false, "x".repeat(33))])).toMatch(
      /longer than 32 bytes/,
    );
  });

  it("refuses wrong names: prompt, content reuse, unknown content, audio in a text block", () => {
    expect(violation([...opening, contentEndEvent("other", "x")])).toMatch(/promptName other does not match/);
    expect(
      violation([
        ...opening,
        ...text("c", "SYSTEM", false, "x"),
        textContentStartEvent(P, "c", "USER", true),
      ]),
    ).toMatch(/contentName c was already used/);
    expect(violation([...opening, textInputEvent(P, "ghost", "boo")])).toMatch(
      /ghost, which is not an open content/,
    );
    expect(
      violation([
        ...opening,
        textContentStartEvent(P, "t", "USER", true),
        audioInputEvent(P, "t", "AAD//w=="),
      ]),
    ).toMatch(/audioInput belongs in an AUDIO content block/);
    expect(
      violation([...opening, audioContentStartEvent(P, "a", 8000), audioContentStartEvent(P, "b", 8000)]),
    ).toMatch(/AUDIO content block is already open/);
    expect(violation([...opening, audioContentStartEvent(P, "a", 8000), promptEndEvent(P)])).toMatch(
      /promptEnd while content a is open/,
    );
  });

  it("accepts a tool result only for a pending tool use, once", () => {
    const result = [
      toolContentStartEvent(P, "r", "tu-1"),
      toolResultEvent(P, "r", '{"ok":true}'),
      contentEndEvent(P, "r"),
    ];
    expect(violation([...opening, ...result])).toMatch(/toolUseId tu-1 does not match a pending tool use/);
    const protocol = new InputProtocol();
    protocol.pendingToolUses.add("tu-1");
    const effects = feed(protocol, [...opening, ...result]);
    expect(effects.at(-1)).toEqual({ kind: "tool_result", toolUseId: "tu-1", content: '{"ok":true}' });
    expect(protocol.pendingToolUses.has("tu-1")).toBe(false);
  });

  it("checks the tool declarations", () => {
    const event = promptStartEvent({
      promptName: P,
      outputSampleRateHz: 8000,
      voiceId: "matthew",
      tools: [{ name: "t", description: "d", inputSchema: { type: "object" } }],
    });
    const { toolUseOutputConfiguration: _omitted, ...withoutOutput } = event.event.promptStart;
    expect(violation([opening[0] as NovaInputEvent, { event: { promptStart: withoutOutput } }])).toMatch(
      /needs toolUseOutputConfiguration/,
    );
    const tools = event.event.promptStart.toolConfiguration?.tools ?? [];
    const badSchema = {
      ...event.event.promptStart,
      toolConfiguration: {
        tools: [{ toolSpec: { name: "t", description: "d", inputSchema: { json: "[1]" } } }],
      },
    };
    expect(violation([opening[0] as NovaInputEvent, { event: { promptStart: badSchema } }])).toMatch(
      /not a JSON object/,
    );
    const twice = { ...event.event.promptStart, toolConfiguration: { tools: [...tools, ...tools] } };
    expect(violation([opening[0] as NovaInputEvent, { event: { promptStart: twice } }])).toMatch(
      /declared twice/,
    );
  });
});

import { describe, expect, it } from "vitest";
import { AppError } from "./errors.ts";
import {
  audioContentStartEvent,
  audioInputEvent,
  contentEndEvent,
  INTERRUPTED_CONTENT,
  isInterruptedSignal,
  MAX_NOVA_EVENT_BYTES,
  parseNovaInputEvent,
  parseNovaOutputEvent,
  promptEndEvent,
  promptStartEvent,
  sessionEndEvent,
  sessionStartEvent,
  textContentStartEvent,
  textInputEvent,
  toolContentStartEvent,
  toolResultEvent,
} from "./nova-events.ts";

const ids = { sessionId: "s-1", promptName: "p-1", completionId: "c-1" };
const wire = (name: string, body: unknown) => JSON.stringify({ event: { [name]: body } });

function codeOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof AppError) return `${error.code}: ${error.message}`;
    throw error;
  }
  throw new Error("expected an AppError");
}

describe("input builders", () => {
  it("build the documented session, in protocol order, and every one parses back", () => {
    const events = [
      sessionStartEvent({ maxTokens: 1024, topP: 0.9, temperature: 0.7, endpointingSensitivity: "MEDIUM" }),
      promptStartEvent({
        promptName: "p-1",
        outputSampleRateHz: 24000,
        voiceId: "matthew",
        tools: [{ name: "hang_up", description: "Ends the call.", inputSchema: { type: "object" } }],
      }),
      textContentStartEvent("p-1", "sys", "SYSTEM", false),
      textInputEvent("p-1", "sys", "You are a helpful agent."),
      contentEndEvent("p-1", "sys"),
      audioContentStartEvent("p-1", "audio", 16000),
      audioInputEvent("p-1", "audio", "AAABAP9/AIA="),
      toolContentStartEvent("p-1", "tool-1", "tu-1"),
      toolResultEvent("p-1", "tool-1", '{"ok":true}'),
      contentEndEvent("p-1", "tool-1"),
      contentEndEvent("p-1", "audio"),
      promptEndEvent("p-1"),
      sessionEndEvent(),
    ];
    const kinds = events.map((event) => parseNovaInputEvent(JSON.stringify(event)).kind);
    expect(kinds).toEqual([
      "sessionStart",
      "promptStart",
      "contentStart",
      "textInput",
      "contentEnd",
      "contentStart",
      "audioInput",
      "contentStart",
      "toolResult",
      "contentEnd",
      "contentEnd",
      "promptEnd",
      "sessionEnd",
    ]);
  });

  it("stringify the tool input schema and declare the tool output format", () => {
    const event = promptStartEvent({
      promptName: "p",
      outputSampleRateHz: 8000,
      voiceId: "tiffany",
      tools: [{ name: "t", description: "d", inputSchema: { type: "object", properties: {} } }],
    });
    const body = event.event.promptStart;
    expect(body.toolUseOutputConfiguration).toEqual({ mediaType: "application/json" });
    expect(body.toolConfiguration?.tools[0]?.toolSpec.inputSchema.json).toBe(
      '{"type":"object","properties":{}}',
    );
    expect(body.audioOutputConfiguration.sampleRateHertz).toBe(8000);
  });

  it("omit tools and turn detection when there are none", () => {
    expect(
      promptStartEvent({ promptName: "p", outputSampleRateHz: 8000, voiceId: "v" }).event.promptStart,
    ).not.toHaveProperty("toolConfiguration");
    expect(
      sessionStartEvent({ maxTokens: 1, topP: 1, temperature: 0 }).event.sessionStart,
    ).not.toHaveProperty("turnDetectionConfiguration");
  });
});

describe("parseNovaInputEvent", () => {
  it("decodes audio input to PCM bytes", () => {
    const parsed = parseNovaInputEvent(JSON.stringify(audioInputEvent("p", "a", "AAABAP9/AIA=")));
    expect(parsed.kind).toBe("audioInput");
    if (parsed.kind !== "audioInput") return;
    expect([...parsed.pcm]).toEqual([0, 0, 1, 0, 255, 127, 0, 128]);
  });

  it("accepts bytes as well as text", () => {
    const bytes = new TextEncoder().encode(JSON.stringify(sessionEndEvent()));
    expect(parseNovaInputEvent(bytes).kind).toBe("sessionEnd");
  });

  it("refuses unsupported sample rates, naming the field", () => {
    const event = audioContentStartEvent("p", "a", 16000);
    const body = {
      ...event.event.contentStart,
      audioInputConfiguration: {
        ...event.event.contentStart.audioInputConfiguration,
        sampleRateHertz: 44100,
      },
    };
    expect(codeOf(() => parseNovaInputEvent(wire("contentStart", body)))).toMatch(
      /^bad_frame: nova contentStart audioInputConfiguration\.sampleRateHertz: expected 8000, 16000 or 24000/,
    );
  });

  it("refuses unknown fields like the service", () => {
    const body = { ...contentEndEvent("p", "c").event.contentEnd, extra: 1 };
    expect(codeOf(() => parseNovaInputEvent(wire("contentEnd", body)))).toMatch(
      /^bad_frame: nova contentEnd/,
    );
  });

  it("refuses a content block whose type and configuration disagree", () => {
    const body = { ...textContentStartEvent("p", "c", "USER", true).event.contentStart, type: "AUDIO" };
    expect(codeOf(() => parseNovaInputEvent(wire("contentStart", body)))).toMatch(
      /^bad_frame: nova contentStart/,
    );
  });

  it("refuses missing fields and wrong types", () => {
    expect(
      codeOf(() => parseNovaInputEvent(wire("textInput", { promptName: "p", contentName: "c" }))),
    ).toMatch(/^bad_frame: nova textInput content: /);
    expect(
      codeOf(() =>
        parseNovaInputEvent(
          wire("sessionStart", { inferenceConfiguration: { maxTokens: "1", topP: 1, temperature: 1 } }),
        ),
      ),
    ).toMatch(/^bad_frame: nova sessionStart inferenceConfiguration\.maxTokens: /);
    expect(
      codeOf(() =>
        parseNovaInputEvent(
          wire("sessionStart", { inferenceConfiguration: { maxTokens: 10, topP: 1.5, temperature: 1 } }),
        ),
      ),
    ).toMatch(/inferenceConfiguration\.topP/);
  });

  it("refuses invalid base64 and half samples in audio", () => {
    expect(codeOf(() => parseNovaInputEvent(JSON.stringify(audioInputEvent("p", "a", "AA*A"))))).toMatch(
      /^bad_base64: nova audioInput\.content: invalid base64: unexpected character code 42 at 2/,
    );
    expect(codeOf(() => parseNovaInputEvent(JSON.stringify(audioInputEvent("p", "a", "AAA"))))).toMatch(
      /^bad_base64: .*multiple of 4/,
    );
    expect(codeOf(() => parseNovaInputEvent(JSON.stringify(audioInputEvent("p", "a", "AAAA"))))).toMatch(
      /^bad_frame: nova audioInput\.content: 3 bytes is not whole 16-bit samples/,
    );
    expect(codeOf(() => parseNovaInputEvent(JSON.stringify(audioInputEvent("p", "a", "A=AA"))))).toMatch(
      /^bad_base64/,
    );
  });

  it("refuses bad JSON, unknown events and oversize documents", () => {
    expect(codeOf(() => parseNovaInputEvent("{not json"))).toMatch(/^bad_json/);
    expect(codeOf(() => parseNovaInputEvent(new Uint8Array([0x7b, 0xff, 0x7d])))).toMatch(
      /^bad_json: .*UTF-8/,
    );
    expect(codeOf(() => parseNovaInputEvent(wire("conversationStart", {})))).toMatch(
      /^unknown_event: nova input: unknown event "conversationStart"/,
    );
    expect(codeOf(() => parseNovaInputEvent(JSON.stringify({ event: {} })))).toMatch(
      /^bad_frame: .*exactly one/,
    );
    expect(codeOf(() => parseNovaInputEvent(JSON.stringify([1])))).toMatch(/^bad_frame/);
    const huge = JSON.stringify(textInputEvent("p", "c", "x".repeat(MAX_NOVA_EVENT_BYTES)));
    expect(codeOf(() => parseNovaInputEvent(huge))).toMatch(/^frame_too_large/);
    expect(codeOf(() => parseNovaInputEvent(new TextEncoder().encode(huge)))).toMatch(/^frame_too_large/);
  });
});

describe("parseNovaOutputEvent", () => {
  it("reads a real-shaped reply sequence", () => {
    const sequence = [
      wire("completionStart", ids),
      wire("contentStart", {
        ...ids,
        contentId: "k1",
        type: "TEXT",
        role: "USER",
        additionalModelFields: '{"generationStage":"FINAL"}',
        textOutputConfiguration: { mediaType: "text/plain" },
      }),
      wire("textOutput", { ...ids, contentId: "k1", content: "what time is it", role: "USER" }),
      wire("contentEnd", { ...ids, contentId: "k1", stopReason: "END_TURN", type: "TEXT" }),
      wire("contentStart", {
        ...ids,
        contentId: "k2",
        type: "AUDIO",
        role: "ASSISTANT",
        audioOutputConfiguration: {
          mediaType: "audio/lpcm",
          sampleRateHertz: 24000,
          sampleSizeBits: 16,
          encoding: "base64",
          channelCount: 1,
        },
      }),
      wire("audioOutput", { ...ids, contentId: "k2", content: "AAABAA==" }),
      wire("contentEnd", { ...ids, contentId: "k2", stopReason: "END_TURN", type: "AUDIO" }),
      wire("usageEvent", {
        ...ids,
        details: {
          delta: { input: { speechTokens: 12, textTokens: 0 }, output: { speechTokens: 30, textTokens: 9 } },
          total: {
            input: { speechTokens: 12, textTokens: 140 },
            output: { speechTokens: 30, textTokens: 9 },
          },
        },
        totalInputTokens: 152,
        totalOutputTokens: 39,
        totalTokens: 191,
      }),
      wire("completionEnd", { ...ids, stopReason: "END_TURN" }),
    ];
    const events = sequence.map((json) => parseNovaOutputEvent(json));
    expect(events.map((event) => event.kind)).toEqual([
      "completionStart",
      "contentStart",
      "textOutput",
      "contentEnd",
      "contentStart",
      "audioOutput",
      "contentEnd",
      "usageEvent",
      "completionEnd",
    ]);
    const first = events[1];
    expect(first?.kind === "contentStart" && first.generationStage).toBe("FINAL");
    const audio = events[5];
    expect(audio?.kind === "audioOutput" && [...audio.pcm]).toEqual([0, 0, 1, 0]);
  });

  it("reads the speculative stage and the tool use", () => {
    const start = parseNovaOutputEvent(
      wire("contentStart", {
        ...ids,
        contentId: "k",
        type: "TEXT",
        role: "ASSISTANT",
        additionalModelFields: '{"generationStage":"SPECULATIVE"}',
      }),
    );
    expect(start.kind === "contentStart" && start.generationStage).toBe("SPECULATIVE");
    const tool = parseNovaOutputEvent(
      wire("toolUse", { ...ids, contentId: "k", toolName: "hang_up", toolUseId: "tu-9", content: "{}" }),
    );
    expect(tool.kind === "toolUse" && tool.body.toolUseId).toBe("tu-9");
  });

  it("recognises the barge-in signal with any whitespace, and only that", () => {
    for (const content of [INTERRUPTED_CONTENT, '{"interrupted":true}', ' {\n "interrupted" :true } ']) {
      const parsed = parseNovaOutputEvent(wire("textOutput", { ...ids, contentId: "k", content }));
      expect(parsed.kind === "textOutput" && parsed.interrupted).toBe(true);
    }
    expect(isInterruptedSignal('{ "interrupted" : false }')).toBe(false);
    expect(isInterruptedSignal("I was interrupted: true")).toBe(false);
  });

  it("tolerates fields the service adds, but not wrong values", () => {
    const parsed = parseNovaOutputEvent(wire("completionStart", { ...ids, newField: 1 }));
    expect(parsed.kind).toBe("completionStart");
    expect(
      codeOf(() =>
        parseNovaOutputEvent(
          wire("contentEnd", { ...ids, contentId: "k", stopReason: "DONE", type: "TEXT" }),
        ),
      ),
    ).toMatch(/^bad_frame: nova contentEnd stopReason: /);
    expect(
      codeOf(() => parseNovaOutputEvent(wire("textOutput", { ...ids, contentId: "k", content: 5 }))),
    ).toMatch(/^bad_frame: nova textOutput content: /);
    expect(
      codeOf(() => parseNovaOutputEvent(wire("toolUse", { ...ids, contentId: "k", toolName: "x" }))),
    ).toMatch(/^bad_frame: nova toolUse toolUseId: /);
  });

  it("refuses broken additional fields, audio and unknown events", () => {
    const start = { ...ids, contentId: "k", type: "TEXT", role: "ASSISTANT" };
    expect(
      codeOf(() => parseNovaOutputEvent(wire("contentStart", { ...start, additionalModelFields: "{oops" }))),
    ).toMatch(/^bad_frame: .*additionalModelFields: not valid JSON/);
    expect(
      codeOf(() =>
        parseNovaOutputEvent(
          wire("contentStart", { ...start, additionalModelFields: '{"generationStage":"DRAFT"}' }),
        ),
      ),
    ).toMatch(/generationStage: expected SPECULATIVE or FINAL/);
    expect(
      codeOf(() => parseNovaOutputEvent(wire("audioOutput", { ...ids, contentId: "k", content: "!!!!" }))),
    ).toMatch(/^bad_base64: nova audioOutput\.content/);
    expect(codeOf(() => parseNovaOutputEvent(wire("sessionStart", {})))).toMatch(/^unknown_event/);
    expect(codeOf(() => parseNovaOutputEvent(""))).toMatch(/^bad_json/);
  });
});

/**
 * Parsing of Nova Sonic events at the boundaries: output events arriving from the model (the bridge) and
 * input events arriving at a model endpoint (the simulator). Input schemas are strict (unknown fields are
 * refused, as the service refuses them); output schemas tolerate fields the service may add.
 */

import * as v from "valibot";
import { decodeBase64 } from "./audio/base64.ts";
import { AppError } from "./errors.ts";
import {
  CONTENT_TYPES,
  ENDPOINTING_SENSITIVITIES,
  GENERATION_STAGES,
  type GenerationStage,
  isInterruptedSignal,
  MAX_NOVA_EVENT_BYTES,
  NOVA_INPUT_NAMES,
  NOVA_OUTPUT_NAMES,
  NOVA_SAMPLE_RATES_HZ,
  type NovaInputMessage,
  type NovaInputName,
  type NovaOutputEvent,
  type NovaOutputName,
  STOP_REASONS,
} from "./nova-event-types.ts";
import { parseJsonText, validate } from "./schema.ts";

const name = v.pipe(v.string(), v.minLength(1, "must not be empty"), v.maxLength(256, "longer than 256"));
const sampleRate = v.picklist(NOVA_SAMPLE_RATES_HZ, "expected 8000, 16000 or 24000");
const unit = v.pipe(v.number(), v.minValue(0), v.maxValue(1));
const textConfig = v.strictObject({ mediaType: v.literal("text/plain") });

// ------------------------------------------------------------------------------------------- input

const inputSchemas = {
  sessionStart: v.strictObject({
    inferenceConfiguration: v.strictObject({
      maxTokens: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000)),
      topP: unit,
      temperature: unit,
    }),
    turnDetectionConfiguration: v.optional(
      v.strictObject({ endpointingSensitivity: v.picklist(ENDPOINTING_SENSITIVITIES) }),
    ),
  }),
  promptStart: v.strictObject({
    promptName: name,
    textOutputConfiguration: textConfig,
    audioOutputConfiguration: v.strictObject({
      mediaType: v.literal("audio/lpcm"),
      sampleRateHertz: sampleRate,
      sampleSizeBits: v.literal(16),
      channelCount: v.literal(1),
      voiceId: name,
      encoding: v.literal("base64"),
      audioType: v.literal("SPEECH"),
    }),
    toolUseOutputConfiguration: v.optional(v.strictObject({ mediaType: v.literal("application/json") })),
    toolConfiguration: v.optional(
      v.strictObject({
        tools: v.array(
          v.strictObject({
            toolSpec: v.strictObject({
              name: v.pipe(v.string(), v.regex(/^[a-zA-Z0-9_-]{1,64}$/, "expected 1-64 of [a-zA-Z0-9_-]")),
              description: v.pipe(v.string(), v.minLength(1, "must not be empty")),
              inputSchema: v.strictObject({ json: v.string() }),
            }),
          }),
        ),
      }),
    ),
  }),
  contentStart: v.variant("type", [
    v.strictObject({
      promptName: name,
      contentName: name,
      type: v.literal("TEXT"),
      role: v.picklist(["SYSTEM", "USER", "ASSISTANT", "SYSTEM_SPEECH"]),
      interactive: v.boolean(),
      textInputConfiguration: textConfig,
    }),
    v.strictObject({
      promptName: name,
      contentName: name,
      type: v.literal("AUDIO"),
      role: v.literal("USER"),
      interactive: v.literal(true),
      audioInputConfiguration: v.strictObject({
        mediaType: v.literal("audio/lpcm"),
        sampleRateHertz: sampleRate,
        sampleSizeBits: v.literal(16),
        channelCount: v.literal(1),
        audioType: v.literal("SPEECH"),
        encoding: v.literal("base64"),
      }),
    }),
    v.strictObject({
      promptName: name,
      contentName: name,
      type: v.literal("TOOL"),
      role: v.literal("TOOL"),
      interactive: v.literal(false),
      toolResultInputConfiguration: v.strictObject({
        toolUseId: name,
        type: v.literal("TEXT"),
        textInputConfiguration: textConfig,
      }),
    }),
  ]),
  textInput: v.strictObject({ promptName: name, contentName: name, content: v.string() }),
  audioInput: v.strictObject({ promptName: name, contentName: name, content: v.string() }),
  toolResult: v.strictObject({ promptName: name, contentName: name, content: v.string() }),
  contentEnd: v.strictObject({ promptName: name, contentName: name }),
  promptEnd: v.strictObject({ promptName: name }),
  sessionEnd: v.strictObject({}),
} satisfies Record<NovaInputName, v.GenericSchema>;

// ------------------------------------------------------------------------------------------- output

const ids = { sessionId: v.string(), promptName: v.string(), completionId: v.string() };
const contentIds = { ...ids, contentId: v.string() };
const tokens = v.object({ speechTokens: v.number(), textTokens: v.number() });
const inOut = v.object({ input: v.optional(tokens), output: v.optional(tokens) });

const outputSchemas = {
  completionStart: v.object(ids),
  contentStart: v.object({
    ...contentIds,
    type: v.picklist(CONTENT_TYPES),
    role: v.picklist(["USER", "ASSISTANT", "TOOL"]),
    additionalModelFields: v.optional(v.string()),
    textOutputConfiguration: v.optional(v.object({ mediaType: v.literal("text/plain") })),
    audioOutputConfiguration: v.optional(
      v.object({
        mediaType: v.literal("audio/lpcm"),
        sampleRateHertz: sampleRate,
        sampleSizeBits: v.literal(16),
        encoding: v.literal("base64"),
        channelCount: v.literal(1),
      }),
    ),
    toolUseOutputConfiguration: v.optional(v.object({ mediaType: v.literal("application/json") })),
  }),
  textOutput: v.object({
    ...contentIds,
    content: v.string(),
    role: v.optional(v.picklist(["USER", "ASSISTANT"])),
  }),
  audioOutput: v.object({ ...contentIds, content: v.string() }),
  toolUse: v.object({ ...contentIds, toolName: v.string(), toolUseId: v.string(), content: v.string() }),
  contentEnd: v.object({
    ...contentIds,
    stopReason: v.picklist(STOP_REASONS),
    type: v.picklist(CONTENT_TYPES),
  }),
  completionEnd: v.object({ ...ids, stopReason: v.string() }),
  usageEvent: v.object({
    ...ids,
    details: v.optional(v.object({ delta: v.optional(inOut), total: v.optional(inOut) })),
    totalInputTokens: v.number(),
    totalOutputTokens: v.number(),
    totalTokens: v.number(),
  }),
} satisfies Record<NovaOutputName, v.GenericSchema>;

// ------------------------------------------------------------------------------------------- shared

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** The single `{ event: { <name>: body } }` entry of a document, or an AppError saying what is wrong. */
function unwrap(json: string | Uint8Array, what: string): { eventName: string; body: unknown } {
  let text: string;
  if (typeof json === "string") {
    text = json;
  } else {
    if (json.byteLength > MAX_NOVA_EVENT_BYTES) {
      throw new AppError(
        "frame_too_large",
        `${what}: ${json.byteLength} bytes exceeds the limit of ${MAX_NOVA_EVENT_BYTES}`,
      );
    }
    try {
      text = utf8.decode(json);
    } catch (cause) {
      throw new AppError("bad_json", `${what}: not valid UTF-8`, { cause });
    }
  }
  const document = parseJsonText(text, MAX_NOVA_EVENT_BYTES, what);
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new AppError("bad_frame", `${what}: expected a JSON object`);
  }
  const event: unknown = (document as { event?: unknown }).event;
  if (typeof event !== "object" || event === null || Array.isArray(event)) {
    throw new AppError("bad_frame", `${what} event: expected an object`);
  }
  const keys = Object.keys(event);
  const eventName = keys[0];
  if (keys.length !== 1 || eventName === undefined) {
    throw new AppError("bad_frame", `${what} event: expected exactly one event, got ${keys.length}`);
  }
  const extra = Object.keys(document).filter((key) => key !== "event");
  if (extra.length > 0) throw new AppError("bad_frame", `${what}: unexpected field "${extra[0]}"`);
  return { eventName, body: (event as Record<string, unknown>)[eventName] };
}

function isOneOf<T extends string>(value: string, names: readonly T[]): value is T {
  return (names as readonly string[]).includes(value);
}

/** Strict standard base64 (padded, no whitespace) to bytes; the error names the field. */
function decodeBase64Field(text: string, field: string): Uint8Array {
  try {
    return decodeBase64(text);
  } catch (error) {
    if (error instanceof AppError)
      throw new AppError(error.code, `${field}: ${error.message}`, { cause: error });
    throw error;
  }
}

function decodePcm(content: string, field: string): Uint8Array {
  const pcm = decodeBase64Field(content, field);
  if (pcm.byteLength % 2 !== 0) {
    throw new AppError("bad_frame", `${field}: ${pcm.byteLength} bytes is not whole 16-bit samples`);
  }
  return pcm;
}

function generationStageOf(additionalModelFields: string | undefined): GenerationStage | undefined {
  if (additionalModelFields === undefined) return undefined;
  let fields: unknown;
  try {
    fields = JSON.parse(additionalModelFields);
  } catch (cause) {
    throw new AppError("bad_frame", "nova contentStart.additionalModelFields: not valid JSON", { cause });
  }
  const stage = (fields as { generationStage?: unknown } | null)?.generationStage;
  if (stage === undefined) return undefined;
  if (typeof stage === "string" && isOneOf(stage, GENERATION_STAGES)) return stage;
  throw new AppError(
    "bad_frame",
    "nova contentStart.additionalModelFields.generationStage: expected SPECULATIVE or FINAL",
  );
}

/** One event from the model (the `bytes` of an output chunk). */
export function parseNovaOutputEvent(json: string | Uint8Array): NovaOutputEvent {
  const { eventName, body } = unwrap(json, "nova output");
  if (!isOneOf(eventName, NOVA_OUTPUT_NAMES)) {
    throw new AppError("unknown_event", `nova output: unknown event "${eventName.slice(0, 64)}"`);
  }
  const what = `nova ${eventName}`;
  switch (eventName) {
    case "contentStart": {
      const parsed = validate(outputSchemas.contentStart, body, what);
      return {
        kind: eventName,
        body: parsed,
        generationStage: generationStageOf(parsed.additionalModelFields),
      };
    }
    case "textOutput": {
      const parsed = validate(outputSchemas.textOutput, body, what);
      return { kind: eventName, body: parsed, interrupted: isInterruptedSignal(parsed.content) };
    }
    case "audioOutput": {
      const parsed = validate(outputSchemas.audioOutput, body, what);
      return { kind: eventName, body: parsed, pcm: decodePcm(parsed.content, `${what}.content`) };
    }
    case "completionStart":
      return { kind: eventName, body: validate(outputSchemas.completionStart, body, what) };
    case "toolUse":
      return { kind: eventName, body: validate(outputSchemas.toolUse, body, what) };
    case "contentEnd":
      return { kind: eventName, body: validate(outputSchemas.contentEnd, body, what) };
    case "completionEnd":
      return { kind: eventName, body: validate(outputSchemas.completionEnd, body, what) };
    case "usageEvent":
      return { kind: eventName, body: validate(outputSchemas.usageEvent, body, what) };
  }
}

/** One event sent to a model endpoint (the `bytes` of an input chunk): what the simulator accepts. */
export function parseNovaInputEvent(json: string | Uint8Array): NovaInputMessage {
  const { eventName, body } = unwrap(json, "nova input");
  if (!isOneOf(eventName, NOVA_INPUT_NAMES)) {
    throw new AppError("unknown_event", `nova input: unknown event "${eventName.slice(0, 64)}"`);
  }
  const what = `nova ${eventName}`;
  switch (eventName) {
    case "audioInput": {
      const parsed = validate(inputSchemas.audioInput, body, what);
      return { kind: eventName, body: parsed, pcm: decodePcm(parsed.content, `${what}.content`) };
    }
    case "sessionStart":
      return { kind: eventName, body: validate(inputSchemas.sessionStart, body, what) };
    case "promptStart":
      return { kind: eventName, body: validate(inputSchemas.promptStart, body, what) };
    case "contentStart":
      return { kind: eventName, body: validate(inputSchemas.contentStart, body, what) };
    case "textInput":
      return { kind: eventName, body: validate(inputSchemas.textInput, body, what) };
    case "toolResult":
      return { kind: eventName, body: validate(inputSchemas.toolResult, body, what) };
    case "contentEnd":
      return { kind: eventName, body: validate(inputSchemas.contentEnd, body, what) };
    case "promptEnd":
      return { kind: eventName, body: validate(inputSchemas.promptEnd, body, what) };
    case "sessionEnd":
      return { kind: eventName, body: validate(inputSchemas.sessionEnd, body, what) };
  }
}

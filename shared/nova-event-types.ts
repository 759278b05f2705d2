/**
 * Amazon Nova Sonic bidirectional-stream events (InvokeModelWithBidirectionalStream): the types and
 * constants of the input events we send and of the output events the model sends. Each event travels as
 * one `{ "event": { "<name>": {...} } }` JSON document in one event-stream chunk. Import from
 * nova-events.ts, which also carries the builders and the parsers.
 *
 * Sources: AWS Nova user guide "Handling input events with the bidirectional API", "Handling output events
 * with the bidirectional API", "Turn-taking controllability", "Cross-modal input"; aws-samples
 * amazon-nova-samples (speech-to-speech).
 */

/** Audio sample rates Nova Sonic accepts in both directions. */
export const NOVA_SAMPLE_RATES_HZ = [8000, 16000, 24000] as const;
export type NovaSampleRateHz = (typeof NOVA_SAMPLE_RATES_HZ)[number];
export const ENDPOINTING_SENSITIVITIES = ["HIGH", "MEDIUM", "LOW"] as const;
export type EndpointingSensitivity = (typeof ENDPOINTING_SENSITIVITIES)[number];
export const INPUT_ROLES = ["SYSTEM", "USER", "ASSISTANT", "TOOL", "SYSTEM_SPEECH"] as const;
export type InputRole = (typeof INPUT_ROLES)[number];
export const CONTENT_TYPES = ["TEXT", "AUDIO", "TOOL"] as const;
export type ContentType = (typeof CONTENT_TYPES)[number];
export const STOP_REASONS = ["PARTIAL_TURN", "END_TURN", "INTERRUPTED", "TOOL_USE"] as const;
export type StopReason = (typeof STOP_REASONS)[number];
export const GENERATION_STAGES = ["SPECULATIVE", "FINAL"] as const;
export type GenerationStage = (typeof GENERATION_STAGES)[number];

/** Largest event document we accept or build (an audio chunk of a few seconds fits easily). */
export const MAX_NOVA_EVENT_BYTES = 1024 * 1024;
/** The textOutput content that signals barge-in, spelled `{ "interrupted" : true }` (any whitespace). */
export const INTERRUPTED_CONTENT = '{ "interrupted" : true }';
const INTERRUPTED_PATTERN = /^\s*\{\s*"interrupted"\s*:\s*true\s*\}\s*$/;

export function isInterruptedSignal(content: string): boolean {
  return INTERRUPTED_PATTERN.test(content);
}

// ---------------------------------------------------------------------------------------------------
// Input events (client -> model)
// ---------------------------------------------------------------------------------------------------

export interface InferenceConfiguration {
  maxTokens: number;
  topP: number;
  temperature: number;
}

export interface SessionStartBody {
  inferenceConfiguration: InferenceConfiguration;
  turnDetectionConfiguration?: { endpointingSensitivity: EndpointingSensitivity };
}

export interface AudioOutputConfiguration {
  mediaType: "audio/lpcm";
  sampleRateHertz: NovaSampleRateHz;
  sampleSizeBits: 16;
  channelCount: 1;
  voiceId: string;
  encoding: "base64";
  audioType: "SPEECH";
}

export interface ToolSpecification {
  toolSpec: { name: string; description: string; inputSchema: { json: string } };
}

export interface PromptStartBody {
  promptName: string;
  textOutputConfiguration: { mediaType: "text/plain" };
  audioOutputConfiguration: AudioOutputConfiguration;
  toolUseOutputConfiguration?: { mediaType: "application/json" };
  toolConfiguration?: { tools: ToolSpecification[] };
}

export interface TextInputConfiguration {
  mediaType: "text/plain";
}

export interface AudioInputConfiguration {
  mediaType: "audio/lpcm";
  sampleRateHertz: NovaSampleRateHz;
  sampleSizeBits: 16;
  channelCount: 1;
  audioType: "SPEECH";
  encoding: "base64";
}

export interface TextContentStartBody {
  promptName: string;
  contentName: string;
  type: "TEXT";
  role: "SYSTEM" | "USER" | "ASSISTANT" | "SYSTEM_SPEECH";
  interactive: boolean;
  textInputConfiguration: TextInputConfiguration;
}

export interface AudioContentStartBody {
  promptName: string;
  contentName: string;
  type: "AUDIO";
  role: "USER";
  interactive: true;
  audioInputConfiguration: AudioInputConfiguration;
}

export interface ToolContentStartBody {
  promptName: string;
  contentName: string;
  type: "TOOL";
  role: "TOOL";
  interactive: false;
  toolResultInputConfiguration: {
    toolUseId: string;
    type: "TEXT";
    textInputConfiguration: TextInputConfiguration;
  };
}

export type ContentStartBody = TextContentStartBody | AudioContentStartBody | ToolContentStartBody;

/** textInput, audioInput and toolResult share this shape; `content` is text, base64 PCM or JSON text. */
export interface ContentBody {
  promptName: string;
  contentName: string;
  content: string;
}

export interface ContentEndBody {
  promptName: string;
  contentName: string;
}

export interface PromptEndBody {
  promptName: string;
}

export type SessionEndBody = Record<string, never>;

/** The body of each input event, by event name. */
export interface NovaInputBodies {
  sessionStart: SessionStartBody;
  promptStart: PromptStartBody;
  contentStart: ContentStartBody;
  textInput: ContentBody;
  audioInput: ContentBody;
  toolResult: ContentBody;
  contentEnd: ContentEndBody;
  promptEnd: PromptEndBody;
  sessionEnd: SessionEndBody;
}
export type NovaInputName = keyof NovaInputBodies;
export const NOVA_INPUT_NAMES = [
  "sessionStart",
  "promptStart",
  "contentStart",
  "textInput",
  "audioInput",
  "toolResult",
  "contentEnd",
  "promptEnd",
  "sessionEnd",
] as const satisfies readonly NovaInputName[];

/** The wire document of one input event: `{ event: { sessionStart: {...} } }` and so on. */
export type NovaInputEvent = {
  [K in NovaInputName]: { event: { [P in K]: NovaInputBodies[K] } };
}[NovaInputName];

/** A parsed input event: its name, its validated body and, for audio, the decoded PCM bytes. */
export type NovaInputMessage =
  | { [K in Exclude<NovaInputName, "audioInput">]: { kind: K; body: NovaInputBodies[K] } }[Exclude<
      NovaInputName,
      "audioInput"
    >]
  | { kind: "audioInput"; body: ContentBody; pcm: Uint8Array };

// ---------------------------------------------------------------------------------------------------
// Output events (model -> client)
// ---------------------------------------------------------------------------------------------------

interface CompletionIds {
  sessionId: string;
  promptName: string;
  completionId: string;
}

interface ContentIds extends CompletionIds {
  contentId: string;
}

export interface CompletionStartBody extends CompletionIds {}

export interface OutputContentStartBody extends ContentIds {
  type: ContentType;
  role: "USER" | "ASSISTANT" | "TOOL";
  /** A JSON string, e.g. `{"generationStage":"SPECULATIVE"}`. */
  additionalModelFields?: string;
  textOutputConfiguration?: { mediaType: "text/plain" };
  audioOutputConfiguration?: {
    mediaType: "audio/lpcm";
    sampleRateHertz: NovaSampleRateHz;
    sampleSizeBits: 16;
    encoding: "base64";
    channelCount: 1;
  };
  toolUseOutputConfiguration?: { mediaType: "application/json" };
}

export interface TextOutputBody extends ContentIds {
  content: string;
  role?: "USER" | "ASSISTANT";
}

export interface AudioOutputBody extends ContentIds {
  content: string;
}

export interface ToolUseBody extends ContentIds {
  toolName: string;
  toolUseId: string;
  /** The tool input, as JSON text. */
  content: string;
}

export interface OutputContentEndBody extends ContentIds {
  stopReason: StopReason;
  type: ContentType;
}

export interface CompletionEndBody extends CompletionIds {
  stopReason: string;
}

export interface TokenCounts {
  speechTokens: number;
  textTokens: number;
}

export interface UsageEventBody extends CompletionIds {
  details?: {
    delta?: { input?: TokenCounts; output?: TokenCounts };
    total?: { input?: TokenCounts; output?: TokenCounts };
  };
  totalInputTokens: number;
  totalOutputTokens: number;
  totalTokens: number;
}

export interface NovaOutputBodies {
  completionStart: CompletionStartBody;
  contentStart: OutputContentStartBody;
  textOutput: TextOutputBody;
  audioOutput: AudioOutputBody;
  toolUse: ToolUseBody;
  contentEnd: OutputContentEndBody;
  completionEnd: CompletionEndBody;
  usageEvent: UsageEventBody;
}
export type NovaOutputName = keyof NovaOutputBodies;
export const NOVA_OUTPUT_NAMES = [
  "completionStart",
  "contentStart",
  "textOutput",
  "audioOutput",
  "toolUse",
  "contentEnd",
  "completionEnd",
  "usageEvent",
] as const satisfies readonly NovaOutputName[];

/** The wire document of one output event. */
export type NovaOutputWire = {
  [K in NovaOutputName]: { event: { [P in K]: NovaOutputBodies[K] } };
}[NovaOutputName];

type PlainOutput = Exclude<NovaOutputName, "contentStart" | "textOutput" | "audioOutput">;

/** A parsed output event, with what consumers need already derived from the body. */
export type NovaOutputEvent =
  | { [K in PlainOutput]: { kind: K; body: NovaOutputBodies[K] } }[PlainOutput]
  | { kind: "contentStart"; body: OutputContentStartBody; generationStage: GenerationStage | undefined }
  | { kind: "textOutput"; body: TextOutputBody; interrupted: boolean }
  | { kind: "audioOutput"; body: AudioOutputBody; pcm: Uint8Array };

export {
  audioContentStartEvent,
  audioInputEvent,
  contentEndEvent,
  type PromptStartOptions,
  promptEndEvent,
  promptStartEvent,
  type SessionStartOptions,
  sessionEndEvent,
  sessionStartEvent,
  type ToolDeclaration,
  textContentStartEvent,
  textInputEvent,
  toolContentStartEvent,
  toolResultEvent,
} from "./nova-event-builders.ts";

/**
 * Builders for the Nova Sonic input events, in protocol order. Each returns the wire document as a plain
 * object that `satisfies` its type; callers serialise it with JSON.stringify.
 */
import type {
  AudioOutputConfiguration,
  EndpointingSensitivity,
  InferenceConfiguration,
  NovaInputEvent,
  NovaSampleRateHz,
  TextContentStartBody,
} from "./nova-event-types.ts";

export interface SessionStartOptions extends InferenceConfiguration {
  endpointingSensitivity?: EndpointingSensitivity;
}

export function sessionStartEvent(options: SessionStartOptions) {
  const { maxTokens, topP, temperature, endpointingSensitivity } = options;
  return {
    event: {
      sessionStart: {
        inferenceConfiguration: { maxTokens, topP, temperature },
        ...(endpointingSensitivity ? { turnDetectionConfiguration: { endpointingSensitivity } } : {}),
      },
    },
  } satisfies NovaInputEvent;
}

/** A tool offered to the model; the input schema is a JSON-schema object, sent stringified. */
export interface ToolDeclaration {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

export interface PromptStartOptions {
  promptName: string;
  outputSampleRateHz: NovaSampleRateHz;
  voiceId: string;
  tools?: readonly ToolDeclaration[];
}

export function promptStartEvent(options: PromptStartOptions) {
  const audioOutputConfiguration = {
    mediaType: "audio/lpcm",
    sampleRateHertz: options.outputSampleRateHz,
    sampleSizeBits: 16,
    channelCount: 1,
    voiceId: options.voiceId,
    encoding: "base64",
    audioType: "SPEECH",
  } satisfies AudioOutputConfiguration;
  const tools = options.tools ?? [];
  return {
    event: {
      promptStart: {
        promptName: options.promptName,
        textOutputConfiguration: { mediaType: "text/plain" },
        audioOutputConfiguration,
        ...(tools.length > 0
          ? {
              toolUseOutputConfiguration: { mediaType: "application/json" },
              toolConfiguration: {
                tools: tools.map((tool) => ({
                  toolSpec: {
                    name: tool.name,
                    description: tool.description,
                    inputSchema: { json: JSON.stringify(tool.inputSchema) },
                  },
                })),
              },
            }
          : {}),
      },
    },
  } satisfies NovaInputEvent;
}

/** A text content block: the system prompt (SYSTEM), history (USER/ASSISTANT) or an interactive USER turn. */
export function textContentStartEvent(
  promptName: string,
  contentName: string,
  role: TextContentStartBody["role"],
  interactive: boolean,
) {
  return {
    event: {
      contentStart: {
        promptName,
        contentName,
        type: "TEXT",
        role,
        interactive,
        textInputConfiguration: { mediaType: "text/plain" },
      },
    },
  } satisfies NovaInputEvent;
}

export function textInputEvent(promptName: string, contentName: string, content: string) {
  return { event: { textInput: { promptName, contentName, content } } } satisfies NovaInputEvent;
}

export function audioContentStartEvent(
  promptName: string,
  contentName: string,
  sampleRateHz: NovaSampleRateHz,
) {
  return {
    event: {
      contentStart: {
        promptName,
        contentName,
        type: "AUDIO",
        role: "USER",
        interactive: true,
        audioInputConfiguration: {
          mediaType: "audio/lpcm",
          sampleRateHertz: sampleRateHz,
          sampleSizeBits: 16,
          channelCount: 1,
          audioType: "SPEECH",
          encoding: "base64",
        },
      },
    },
  } satisfies NovaInputEvent;
}

/** One chunk of caller audio: 16-bit little-endian mono PCM, base64. */
export function audioInputEvent(promptName: string, contentName: string, pcmBase64: string) {
  return { event: { audioInput: { promptName, contentName, content: pcmBase64 } } } satisfies NovaInputEvent;
}

export function toolContentStartEvent(promptName: string, contentName: string, toolUseId: string) {
  return {
    event: {
      contentStart: {
        promptName,
        contentName,
        type: "TOOL",
        role: "TOOL",
        interactive: false,
        toolResultInputConfiguration: {
          toolUseId,
          type: "TEXT",
          textInputConfiguration: { mediaType: "text/plain" },
        },
      },
    },
  } satisfies NovaInputEvent;
}

/** The tool's result as JSON text. */
export function toolResultEvent(promptName: string, contentName: string, resultJson: string) {
  return { event: { toolResult: { promptName, contentName, content: resultJson } } } satisfies NovaInputEvent;
}

export function contentEndEvent(promptName: string, contentName: string) {
  return { event: { contentEnd: { promptName, contentName } } } satisfies NovaInputEvent;
}

export function promptEndEvent(promptName: string) {
  return { event: { promptEnd: { promptName } } } satisfies NovaInputEvent;
}

export function sessionEndEvent() {
  return { event: { sessionEnd: {} } } satisfies NovaInputEvent;
}

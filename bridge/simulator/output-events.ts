/**
 * The output event documents the simulator sends, shaped as the service shapes them (see the AWS Nova
 * user guide "Handling output events with the bidirectional API"); each `satisfies` its wire type.
 */
import type {
  GenerationStage,
  NovaOutputWire,
  NovaSampleRateHz,
  StopReason,
  TokenCounts,
} from "../../shared/nova-events.ts";

export interface CompletionIds {
  sessionId: string;
  promptName: string;
  completionId: string;
}

export const completionStart = (ids: CompletionIds) =>
  ({ event: { completionStart: { ...ids } } }) satisfies NovaOutputWire;

export const textContentStart = (
  ids: CompletionIds,
  contentId: string,
  role: "USER" | "ASSISTANT",
  stage: GenerationStage,
) =>
  ({
    event: {
      contentStart: {
        ...ids,
        contentId,
        type: "TEXT",
        role,
        additionalModelFields: JSON.stringify({ generationStage: stage }),
        textOutputConfiguration: { mediaType: "text/plain" },
      },
    },
  }) satisfies NovaOutputWire;

export const audioContentStart = (ids: CompletionIds, contentId: string, sampleRateHz: NovaSampleRateHz) =>
  ({
    event: {
      contentStart: {
        ...ids,
        contentId,
        type: "AUDIO",
        role: "ASSISTANT",
        audioOutputConfiguration: {
          mediaType: "audio/lpcm",
          sampleRateHertz: sampleRateHz,
          sampleSizeBits: 16,
          encoding: "base64",
          channelCount: 1,
        },
      },
    },
  }) satisfies NovaOutputWire;

export const toolContentStart = (ids: CompletionIds, contentId: string) =>
  ({
    event: {
      contentStart: {
        ...ids,
        contentId,
        type: "TOOL",
        role: "TOOL",
        toolUseOutputConfiguration: { mediaType: "application/json" },
      },
    },
  }) satisfies NovaOutputWire;

export const textOutput = (
  ids: CompletionIds,
  contentId: string,
  role: "USER" | "ASSISTANT",
  content: string,
) => ({ event: { textOutput: { ...ids, contentId, content, role } } }) satisfies NovaOutputWire;

export const audioOutput = (ids: CompletionIds, contentId: string, pcmBase64: string) =>
  ({ event: { audioOutput: { ...ids, contentId, content: pcmBase64 } } }) satisfies NovaOutputWire;

export const toolUse = (
  ids: CompletionIds,
  contentId: string,
  toolName: string,
  toolUseId: string,
  input: string,
) =>
  ({
    event: { toolUse: { ...ids, contentId, toolName, toolUseId, content: input } },
  }) satisfies NovaOutputWire;

export const contentEnd = (
  ids: CompletionIds,
  contentId: string,
  type: "TEXT" | "AUDIO" | "TOOL",
  stopReason: StopReason,
) => ({ event: { contentEnd: { ...ids, contentId, stopReason, type } } }) satisfies NovaOutputWire;

export const completionEnd = (ids: CompletionIds) =>
  ({ event: { completionEnd: { ...ids, stopReason: "END_TURN" } } }) satisfies NovaOutputWire;

export interface Usage {
  input: TokenCounts;
  output: TokenCounts;
}

const sum = (counts: TokenCounts) => counts.speechTokens + counts.textTokens;

export const usageEvent = (ids: CompletionIds, delta: Usage, total: Usage) =>
  ({
    event: {
      usageEvent: {
        ...ids,
        details: { delta, total },
        totalInputTokens: sum(total.input),
        totalOutputTokens: sum(total.output),
        totalTokens: sum(total.input) + sum(total.output),
      },
    },
  }) satisfies NovaOutputWire;

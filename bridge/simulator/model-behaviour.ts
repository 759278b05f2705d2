/**
 * How the simulated model behaves (shared by all sessions of a simulator), and where a session's output
 * goes.
 */
import type { EndpointingSensitivity, NovaOutputWire } from "../../shared/nova-events.ts";
import type { StreamExceptionType } from "./event-stream.ts";
import type { HistoryLimits } from "./input-protocol.ts";
import type { ReplyLibrary } from "./replies.ts";
import type { UtteranceCatalogue } from "./transcripts.ts";

/** A scripted tool call: when a user turn's text contains `keyword`, the model calls `toolName`. */
export interface ToolTrigger {
  keyword: string;
  toolName: string;
  input: Record<string, unknown>;
}

export const DEFAULT_TOOL_TRIGGERS: readonly ToolTrigger[] = [
  { keyword: "transfer", toolName: "transfer", input: { reason: "the caller asked for a person" } },
  { keyword: "what time", toolName: "get_current_time", input: {} },
  { keyword: "goodbye", toolName: "hang_up", input: { reason: "the caller said goodbye" } },
];

/** How the simulated model behaves. */
export interface ModelBehaviour {
  replies: ReplyLibrary;
  catalogue: UtteranceCatalogue | undefined;
  drawLatencyMs: () => number;
  pauseMsBySensitivity: Readonly<Record<EndpointingSensitivity, number>>;
  /** Used when sessionStart has no turnDetectionConfiguration. */
  defaultSensitivity: EndpointingSensitivity;
  speechThresholdDbfs: number;
  minSpeechMs: number;
  /** Caller speech over an audible reply, beyond minSpeechMs, before the model declares an interruption. */
  bargeInDetectionMs: number;
  /** Caller speech over a reply shorter than this, which did not interrupt it, is a back-channel. */
  backchannelMaxMs: number;
  audioChunkMs: number;
  generationSpeed: number;
  sessionLimitMs: number;
  toolTriggers: readonly ToolTrigger[];
  historyLimits: HistoryLimits;
  now: () => number;
}

/** Where a session's output goes. After exception(), reset() or end() nothing more is sent. */
export interface SessionOutput {
  event(wire: NovaOutputWire): void;
  exception(type: StreamExceptionType, message: string): void;
  reset(): void;
  end(): void;
}

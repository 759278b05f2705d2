/**
 * The edge ⇄ bridge protocol (ours; versioned, since edge and bridge deploy separately).
 *
 * One WebSocket per call: edge → bridge at `GET /v1/calls/{callSid}/media` with
 * `Authorization: Bearer <bridge token>` and `x-bridge-protocol: <version>`. On it:
 * - Twilio's frames travel untouched in both directions (the edge does not re-serialise them);
 * - our control messages are JSON objects whose FIRST key is `bridge` (`{"bridge":"turn",…}`), so that a
 *   receiver tells them from Twilio frames (`{"event":…}`) with one `startsWith`, without parsing media.
 *
 * The pre-warm hint is plain HTTP: `POST /v1/calls/{callSid}/prewarm` with the same token and a
 * `PrewarmRequest` body. Bridge health: `GET /healthz` → `BridgeHealth`.
 */
import * as v from "valibot";
import { parseJsonText, validate } from "./schema.ts";

export const BRIDGE_PROTOCOL_VERSION = 1;
export const BRIDGE_PROTOCOL_HEADER = "x-bridge-protocol";
export const CONTROL_PREFIX = '{"bridge":';

/** Control messages carry transcripts; a resume carries a whole call's history. */
export const MAX_CONTROL_FRAME_CHARS = 512 * 1024;

/** WebSocket close codes used between edge and bridge (1000-1015 are the RFC's, 4000-4999 are ours). */
export const BridgeCloseCode = {
  /** The call ended normally (Twilio `stop`, or the edge hung up). */
  NORMAL: 1000,
  /** The bridge is shutting down; the edge moves the call to another bridge. */
  GOING_AWAY: 1001,
  /** A frame over the size limit. */
  MESSAGE_TOO_BIG: 1009,
  /** A frame that is not valid JSON, not a known message, or out of order. */
  PROTOCOL_ERROR: 4000,
  /** The peer speaks another protocol version. */
  UNSUPPORTED_VERSION: 4001,
  /** The token is missing, expired or not for this call (normally refused before the upgrade). */
  UNAUTHORIZED: 4003,
  /** The agent ended the call (hang-up or transfer done); the edge ends Twilio's stream. */
  CALL_ENDED: 4010,
  /** The call failed on the bridge and cannot go on there; the edge may retry elsewhere. */
  CALL_FAILED: 4011,
  /** The bridge is draining and hands this call over; the edge reconnects elsewhere with a resume. */
  DRAINING: 4012,
} as const;
export type BridgeCloseCode = (typeof BridgeCloseCode)[keyof typeof BridgeCloseCode];

export function closeCodeName(code: number): string {
  for (const [name, value] of Object.entries(BridgeCloseCode)) if (value === code) return name;
  return `UNKNOWN_${code}`;
}

const callSidSchema = v.pipe(v.string(), v.regex(/^CA[0-9a-fA-F]{32}$/, "expected a call SID"));
const epochMs = v.pipe(v.number(), v.finite(), v.minValue(0));
const text = v.pipe(v.string(), v.maxLength(64 * 1024));

const historyEntrySchema = v.object({
  role: v.picklist(["USER", "ASSISTANT"]),
  text,
});
export type HistoryEntry = v.InferOutput<typeof historyEntrySchema>;

// ---- edge → bridge ---------------------------------------------------------------------------------

const resumeSchema = v.object({
  bridge: v.literal("resume"),
  protocolVersion: v.number(),
  callSid: callSidSchema,
  reason: v.picklist(["failover", "handover"]),
  /** What was said so far; assistant entries hold only what the caller heard. */
  history: v.pipe(v.array(historyEntrySchema), v.maxLength(1000)),
  turnsCompleted: v.pipe(v.number(), v.integer(), v.minValue(0)),
  callStartedAtMs: epochMs,
});
export type ResumeMessage = v.InferOutput<typeof resumeSchema>;

const edgeControlSchema = v.variant("bridge", [resumeSchema]);
export type EdgeControl = v.InferOutput<typeof edgeControlSchema>;

export function parseEdgeControl(frame: string): EdgeControl {
  return validate(
    edgeControlSchema,
    parseJsonText(frame, MAX_CONTROL_FRAME_CHARS, "edge control"),
    "edge control",
  );
}

export function buildResume(message: Omit<ResumeMessage, "bridge" | "protocolVersion">): string {
  return JSON.stringify({
    bridge: "resume",
    protocolVersion: BRIDGE_PROTOCOL_VERSION,
    ...message,
  } satisfies ResumeMessage);
}

// ---- bridge → edge ---------------------------------------------------------------------------------

const readySchema = v.object({
  bridge: v.literal("ready"),
  protocolVersion: v.number(),
  bridgeId: v.string(),
  /** Whether the call's Nova Sonic session came from a warm stream (pool or pre-warm). */
  sessionWarm: v.boolean(),
});
export type ReadyMessage = v.InferOutput<typeof readySchema>;

const transcriptSchema = v.object({
  bridge: v.literal("transcript"),
  turnIndex: v.pipe(v.number(), v.integer(), v.minValue(0)),
  role: v.picklist(["USER", "ASSISTANT"]),
  text,
  atMs: epochMs,
});
export type TranscriptMessage = v.InferOutput<typeof transcriptSchema>;

/** The bridge's instant prompts: audio it plays without a model round trip. */
export const CACHED_PROMPT_IDS = ["greeting", "hold", "transfer", "apology", "goodbye"] as const;
export type CachedPromptId = (typeof CACHED_PROMPT_IDS)[number];

const optionalMs = v.optional(epochMs);
const turnTimingsSchema = v.object({
  /** Twilio's `start` reached the bridge (on the call's first turn: the greeting's latency starts here). */
  streamStartMs: optionalMs,
  /** Local VAD: the caller stopped speaking. */
  callerSpeechEndMs: optionalMs,
  /** The audioInput holding the caller's last speech (local VAD) left the bridge. */
  lastAudioInputSentMs: optionalMs,
  /** The first audioOutput of the reply reached the bridge. */
  firstModelAudioMs: optionalMs,
  /** The first reply frame left the bridge towards the caller. */
  firstFrameSentMs: optionalMs,
  /** Barge-in: caller speech onset during the reply, and when `clear` went out. */
  bargeInOnsetMs: optionalMs,
  clearSentMs: optionalMs,
});
export type TurnTimings = v.InferOutput<typeof turnTimingsSchema>;

const turnFields = {
  turnIndex: v.pipe(v.number(), v.integer(), v.minValue(0)),
  userText: text,
  assistantText: text,
  /** The part of the reply the caller heard, and for how long. */
  heardText: text,
  heardMs: v.pipe(v.number(), v.minValue(0)),
  replyMs: v.pipe(v.number(), v.minValue(0)),
  interrupted: v.boolean(),
  interruptedBy: v.optional(v.picklist(["model", "vad"])),
  /** The reply was a cached prompt played by the bridge, not the model's speech. */
  cachedPrompt: v.optional(v.picklist(CACHED_PROMPT_IDS)),
  timings: turnTimingsSchema,
};
const turnSchema = v.object({ bridge: v.literal("turn"), ...turnFields });
export type TurnMessage = v.InferOutput<typeof turnSchema>;

/** A turn as the edge stores it and GET /calls/{CallSid} returns it: the `turn` message, and when it came. */
export const storedTurnSchema = v.object({ ...turnFields, atMs: epochMs });
export type StoredTurn = v.InferOutput<typeof storedTurnSchema>;

const hangupSchema = v.object({
  bridge: v.literal("hangup"),
  reason: v.picklist(["agent", "transfer", "error", "session_failed"]),
});
export type HangupMessage = v.InferOutput<typeof hangupSchema>;

const errorSchema = v.object({
  bridge: v.literal("error"),
  code: v.string(),
  message: v.pipe(v.string(), v.maxLength(4096)),
});
export type BridgeErrorMessage = v.InferOutput<typeof errorSchema>;

const bridgeControlSchema = v.variant("bridge", [
  readySchema,
  transcriptSchema,
  turnSchema,
  hangupSchema,
  errorSchema,
]);
export type BridgeControl = v.InferOutput<typeof bridgeControlSchema>;

export function parseBridgeControl(frame: string): BridgeControl {
  return validate(
    bridgeControlSchema,
    parseJsonText(frame, MAX_CONTROL_FRAME_CHARS, "bridge control"),
    "bridge control",
  );
}

/** Serialises a bridge → edge control message with `bridge` as its first key (see CONTROL_PREFIX). */
export function buildBridgeControl(message: BridgeControl): string {
  const { bridge, ...rest } = message;
  return JSON.stringify({ bridge, ...rest });
}

export function isControlFrame(frame: string): boolean {
  return frame.startsWith(CONTROL_PREFIX);
}

// ---- HTTP: pre-warm and health -----------------------------------------------------------------------

const prewarmSchema = v.object({
  callSid: callSidSchema,
  /** Per-call settings the edge chose (e.g. voice); absent fields use the bridge's configuration. */
  voiceId: v.optional(v.pipe(v.string(), v.maxLength(64))),
  systemPrompt: v.optional(v.pipe(v.string(), v.maxLength(32 * 1024))),
});
export type PrewarmRequest = v.InferOutput<typeof prewarmSchema>;

export function parsePrewarmRequest(body: string): PrewarmRequest {
  return validate(prewarmSchema, parseJsonText(body, 64 * 1024, "prewarm request"), "prewarm request");
}

const healthSchema = v.object({
  status: v.picklist(["ok", "draining"]),
  bridgeId: v.string(),
  region: v.string(),
  protocolVersion: v.number(),
  activeCalls: v.pipe(v.number(), v.integer(), v.minValue(0)),
  maxCalls: v.pipe(v.number(), v.integer(), v.minValue(0)),
});
export type BridgeHealth = v.InferOutput<typeof healthSchema>;

export function parseBridgeHealth(body: string): BridgeHealth {
  return validate(healthSchema, parseJsonText(body, 16 * 1024, "bridge health"), "bridge health");
}

export function bridgeMediaPath(callSid: string): string {
  return `/v1/calls/${callSid}/media`;
}
export function bridgePrewarmPath(callSid: string): string {
  return `/v1/calls/${callSid}/prewarm`;
}

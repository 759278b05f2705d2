/**
 * Twilio Media Streams, bidirectional (`<Connect><Stream>`): everything Twilio sends us and everything we
 * send back. Field types are Twilio's own: sequence numbers, chunks and timestamps are strings of digits.
 * https://www.twilio.com/docs/voice/media-streams/websocket-messages
 */
import * as v from "valibot";
import { digitString, parseJsonText, validate } from "./schema.ts";

/** A 20 ms frame is ~300 characters; anything near this limit is not a Twilio frame. */
export const MAX_TWILIO_FRAME_CHARS = 64 * 1024;
/** Twilio sends 160-byte payloads (216 base64 characters); we accept up to 1 s of audio in one frame. */
export const MAX_MEDIA_PAYLOAD_CHARS = Math.ceil((8000 / 3) * 4) + 4;

const streamSid = v.pipe(v.string(), v.regex(/^MZ[0-9a-fA-F]{32}$/, "expected a stream SID (MZ + 32 hex)"));
const callSid = v.pipe(v.string(), v.regex(/^CA[0-9a-fA-F]{32}$/, "expected a call SID (CA + 32 hex)"));
const accountSid = v.pipe(
  v.string(),
  v.regex(/^AC[0-9a-fA-F]{32}$/, "expected an account SID (AC + 32 hex)"),
);
const base64Payload = v.pipe(
  v.string(),
  v.maxLength(MAX_MEDIA_PAYLOAD_CHARS, "payload too large"),
  v.regex(/^[A-Za-z0-9+/]*={0,2}$/, "expected base64"),
);

const connectedSchema = v.object({
  event: v.literal("connected"),
  protocol: v.string(),
  version: v.string(),
});

const startSchema = v.object({
  event: v.literal("start"),
  sequenceNumber: digitString,
  streamSid,
  start: v.object({
    streamSid,
    accountSid,
    callSid,
    tracks: v.array(v.picklist(["inbound", "outbound"])),
    customParameters: v.optional(v.record(v.string(), v.string()), {}),
    mediaFormat: v.object({
      encoding: v.literal("audio/x-mulaw"),
      sampleRate: v.literal(8000),
      channels: v.literal(1),
    }),
  }),
});

const mediaSchema = v.object({
  event: v.literal("media"),
  sequenceNumber: digitString,
  streamSid,
  media: v.object({
    track: v.picklist(["inbound", "outbound"]),
    chunk: digitString,
    timestamp: digitString,
    payload: base64Payload,
  }),
});

const dtmfSchema = v.object({
  event: v.literal("dtmf"),
  sequenceNumber: digitString,
  streamSid,
  dtmf: v.object({
    track: v.literal("inbound_track"),
    digit: v.pipe(v.string(), v.regex(/^[0-9*#A-D]$/, "expected one DTMF digit")),
  }),
});

const markSchema = v.object({
  event: v.literal("mark"),
  sequenceNumber: digitString,
  streamSid,
  mark: v.object({ name: v.pipe(v.string(), v.minLength(1), v.maxLength(256)) }),
});

const stopSchema = v.object({
  event: v.literal("stop"),
  sequenceNumber: digitString,
  streamSid,
  stop: v.object({ accountSid, callSid }),
});

const inboundSchema = v.variant("event", [
  connectedSchema,
  startSchema,
  mediaSchema,
  dtmfSchema,
  markSchema,
  stopSchema,
]);

export type TwilioConnected = v.InferOutput<typeof connectedSchema>;
export type TwilioStart = v.InferOutput<typeof startSchema>;
export type TwilioMedia = v.InferOutput<typeof mediaSchema>;
export type TwilioDtmf = v.InferOutput<typeof dtmfSchema>;
export type TwilioMarkEcho = v.InferOutput<typeof markSchema>;
export type TwilioStop = v.InferOutput<typeof stopSchema>;
/** What Twilio sends over the Media Stream. */
export type TwilioInbound = v.InferOutput<typeof inboundSchema>;

/** Parses one text frame from Twilio; throws AppError (bad_json, frame_too_large, bad_frame) naming the field. */
export function parseTwilioInbound(text: string): TwilioInbound {
  return validate(inboundSchema, parseJsonText(text, MAX_TWILIO_FRAME_CHARS, "twilio frame"), "twilio frame");
}

// ---- What we send to Twilio ------------------------------------------------------------------------

export interface TwilioOutboundMedia {
  event: "media";
  streamSid: string;
  media: { payload: string };
}
export interface TwilioOutboundMark {
  event: "mark";
  streamSid: string;
  mark: { name: string };
}
export interface TwilioOutboundClear {
  event: "clear";
  streamSid: string;
}
export type TwilioOutbound = TwilioOutboundMedia | TwilioOutboundMark | TwilioOutboundClear;

export function buildMedia(streamSid: string, payloadBase64: string): string {
  return JSON.stringify({
    event: "media",
    streamSid,
    media: { payload: payloadBase64 },
  } satisfies TwilioOutboundMedia);
}

export function buildMark(streamSid: string, name: string): string {
  return JSON.stringify({ event: "mark", streamSid, mark: { name } } satisfies TwilioOutboundMark);
}

export function buildClear(streamSid: string): string {
  return JSON.stringify({ event: "clear", streamSid } satisfies TwilioOutboundClear);
}

const outboundSchema = v.variant("event", [
  v.object({ event: v.literal("media"), streamSid, media: v.object({ payload: base64Payload }) }),
  v.object({
    event: v.literal("mark"),
    streamSid,
    mark: v.object({ name: v.pipe(v.string(), v.minLength(1), v.maxLength(256)) }),
  }),
  v.object({ event: v.literal("clear"), streamSid }),
]);

/**
 * Parses a frame meant for Twilio (what the bridge sends, what a phone simulator receives): Twilio closes
 * the stream on a malformed message, so both the edge and the simulator check it.
 */
export function parseTwilioOutbound(text: string): TwilioOutbound {
  return validate(
    outboundSchema,
    parseJsonText(text, MAX_TWILIO_FRAME_CHARS, "outbound frame"),
    "outbound frame",
  );
}

// ---- What Twilio sends, built (the phone simulator is a Twilio stand-in) ---------------------------

export function buildConnected(): string {
  return JSON.stringify({ event: "connected", protocol: "Call", version: "1.0.0" } satisfies TwilioConnected);
}

export function buildStart(args: {
  sequenceNumber: number;
  streamSid: string;
  accountSid: string;
  callSid: string;
  customParameters: Record<string, string>;
}): string {
  return JSON.stringify({
    event: "start",
    sequenceNumber: String(args.sequenceNumber),
    streamSid: args.streamSid,
    start: {
      streamSid: args.streamSid,
      accountSid: args.accountSid,
      callSid: args.callSid,
      tracks: ["inbound"],
      customParameters: args.customParameters,
      mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
    },
  } satisfies TwilioStart);
}

export function buildInboundMedia(args: {
  sequenceNumber: number;
  streamSid: string;
  chunk: number;
  timestampMs: number;
  payloadBase64: string;
}): string {
  return JSON.stringify({
    event: "media",
    sequenceNumber: String(args.sequenceNumber),
    streamSid: args.streamSid,
    media: {
      track: "inbound",
      chunk: String(args.chunk),
      timestamp: String(Math.floor(args.timestampMs)),
      payload: args.payloadBase64,
    },
  } satisfies TwilioMedia);
}

export function buildDtmf(args: { sequenceNumber: number; streamSid: string; digit: string }): string {
  return JSON.stringify({
    event: "dtmf",
    sequenceNumber: String(args.sequenceNumber),
    streamSid: args.streamSid,
    dtmf: { track: "inbound_track", digit: args.digit },
  } satisfies TwilioDtmf);
}

export function buildMarkEcho(args: { sequenceNumber: number; streamSid: string; name: string }): string {
  return JSON.stringify({
    event: "mark",
    sequenceNumber: String(args.sequenceNumber),
    streamSid: args.streamSid,
    mark: { name: args.name },
  } satisfies TwilioMarkEcho);
}

export function buildStop(args: {
  sequenceNumber: number;
  streamSid: string;
  accountSid: string;
  callSid: string;
}): string {
  return JSON.stringify({
    event: "stop",
    sequenceNumber: String(args.sequenceNumber),
    streamSid: args.streamSid,
    stop: { accountSid: args.accountSid, callSid: args.callSid },
  } satisfies TwilioStop);
}

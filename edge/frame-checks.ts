/**
 * The cheap checks a relayed frame gets, pure. Media (the 50-a-second frames) is recognised by its
 * prefix and checked for size and shape only, then sent on as the same string; everything else is rare
 * and fully parsed by the caller (Twilio events) or here (Twilio-bound frames that are not canonical media).
 */
import { CONTROL_PREFIX } from "../shared/bridge-protocol.ts";
import { errorCode } from "../shared/errors.ts";
import { MAX_TWILIO_FRAME_CHARS, parseTwilioOutbound } from "../shared/twilio-media.ts";

/** Twilio's media frames start like this (Twilio writes `event` first); others take the parsing path. */
const TWILIO_MEDIA_PREFIX = '{"event":"media",';
/** Canonical Twilio-bound media (shared/twilio-media.ts buildMedia) starts and ends like this. */
const OUTBOUND_MEDIA_PREFIX = '{"event":"media","streamSid":"';
const OUTBOUND_MEDIA_SUFFIX = '"}}';
const CLOSING_BRACE = 125;

/** Why a frame was dropped: an ErrorCode from the parsers, or one of these. */
export type DropReason = string;

/** A frame from Twilio: "media" (send on as is), "event" (parse it), or why it is dropped. */
export function checkTwilioFrame(data: string): "media" | "event" | DropReason {
  if (data.length > MAX_TWILIO_FRAME_CHARS) return "frame_too_large";
  if (!data.startsWith(TWILIO_MEDIA_PREFIX)) return "event";
  return data.charCodeAt(data.length - 1) === CLOSING_BRACE ? "media" : "bad_json";
}

/** A frame from the bridge: "control" (ours, parse it), "twilio" (send on as is), or why it is dropped. */
export function checkBridgeFrame(data: string): "control" | "twilio" | DropReason {
  if (data.startsWith(CONTROL_PREFIX)) return "control";
  if (data.length > MAX_TWILIO_FRAME_CHARS) return "frame_too_large";
  if (data.startsWith(OUTBOUND_MEDIA_PREFIX) && data.endsWith(OUTBOUND_MEDIA_SUFFIX)) return "twilio";
  try {
    parseTwilioOutbound(data);
    return "twilio";
  } catch (error) {
    return errorCode(error);
  }
}

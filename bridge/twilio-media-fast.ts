/**
 * A fast path for the one frame that arrives 50 times a second per call: Twilio's inbound `media`. It
 * checks exactly what the shared schema checks (shared/twilio-media.ts), by hand, and gives up on the
 * first doubt: anything it does not accept goes through the full parser, which then names the problem.
 */
import { MAX_MEDIA_PAYLOAD_CHARS, type TwilioMedia } from "../shared/twilio-media.ts";

const STREAM_SID = /^MZ[0-9a-fA-F]{32}$/;
const DIGITS = /^\d{1,15}$/;

/** 1 for each character of the base64 alphabet (without padding). */
const BASE64_CHAR = Uint8Array.from({ length: 128 }, (_, code) =>
  /[A-Za-z0-9+/]/.test(String.fromCharCode(code)) ? 1 : 0,
);

function isBase64(text: string): boolean {
  let end = text.length;
  if (end > 0 && text.charCodeAt(end - 1) === 61) end--;
  if (end > 0 && text.charCodeAt(end - 1) === 61) end--;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code >= 128 || BASE64_CHAR[code] === 0) return false;
  }
  return true;
}

function isDigits(value: unknown): value is string {
  return typeof value === "string" && DIGITS.test(value);
}

/** The frame as a valid inbound media message, or null when the full parser must look at it. */
export function parseTwilioMediaFast(text: string): TwilioMedia | null {
  if (!text.startsWith('{"event":"media"')) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const frame = value as Record<string, unknown>;
  const media = frame.media as Record<string, unknown> | null | undefined;
  if (
    typeof frame.streamSid !== "string" ||
    !STREAM_SID.test(frame.streamSid) ||
    !isDigits(frame.sequenceNumber) ||
    typeof media !== "object" ||
    media === null ||
    (media.track !== "inbound" && media.track !== "outbound") ||
    !isDigits(media.chunk) ||
    !isDigits(media.timestamp) ||
    typeof media.payload !== "string" ||
    media.payload.length > MAX_MEDIA_PAYLOAD_CHARS ||
    !isBase64(media.payload)
  ) {
    return null;
  }
  return {
    event: "media",
    sequenceNumber: frame.sequenceNumber,
    streamSid: frame.streamSid,
    media: {
      track: media.track,
      chunk: media.chunk,
      timestamp: media.timestamp,
      payload: media.payload,
    },
  };
}

/**
 * Browser softphone calls: the admin's browser calls the agent over the same Media Streams protocol as
 * Twilio, without Twilio. Instead of Twilio's signatures:
 * - the call is created by an admin-authenticated POST /phone/calls (the edge generates the CallSid,
 *   with a recognisable prefix, and admits the call the way /voice does: bridge, pre-warm, record);
 * - the WebSocket upgrade (a browser cannot set headers on it) carries that call's stream token, a
 *   short-lived HMAC token bound to the CallSid, in `Sec-WebSocket-Protocol`, next to our protocol name;
 *   the admin token never travels in a URL or a WebSocket handshake;
 * - `start.customParameters.token` carries the same token, checked by the relay exactly as for Twilio;
 * - the Durable Object accepts one stream per call, so the token serves one connection.
 */
import { AppError } from "../shared/errors.ts";
import { verifyToken } from "../shared/signed-token.ts";
import type { AnswerDeps } from "./call-answer.ts";
import { admitCall } from "./call-answer.ts";
import { CALL_SID } from "./webhooks.ts";

/** Browser CallSids look like Twilio's (CA + 32 hex, as the protocol requires) and start with "CAbe11". */
export const SOFTPHONE_CALL_SID_PREFIX = "CAbe11";
/** Twilio's `start` needs an AccountSid: a browser call has no Twilio account, so it uses this one. */
export const SOFTPHONE_ACCOUNT_SID = `AC${"0".repeat(32)}`;
/** The subprotocol the browser offers (with its token as a second entry) and the edge selects. */
export const SOFTPHONE_SUBPROTOCOL = "nova-phone.media.v1";
export const SOFTPHONE_FROM = "browser";
export const SOFTPHONE_TO = "agent";

/** What POST /phone/calls answers. */
export interface SoftphoneCall {
  callSid: string;
  accountSid: string;
  /** Same-origin path of the media WebSocket; the page builds ws(s)://its-origin + streamPath. */
  streamPath: string;
  streamToken: string;
  subprotocol: string;
  /** The token is refused after this (it only opens the stream; the call itself may last longer). */
  streamTokenExpiresAtMs: number;
}

export function isSoftphoneCallSid(callSid: string): boolean {
  return CALL_SID.test(callSid) && callSid.startsWith(SOFTPHONE_CALL_SID_PREFIX);
}

export function newSoftphoneCallSid(): string {
  const hexChars = 32 - (SOFTPHONE_CALL_SID_PREFIX.length - 2);
  const bytes = crypto.getRandomValues(new Uint8Array(Math.ceil(hexChars / 2)));
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return SOFTPHONE_CALL_SID_PREFIX + hex.slice(0, hexChars);
}

export function softphoneStreamPath(callSid: string): string {
  return `/phone/media/${callSid}`;
}

/**
 * The stream token offered in `Sec-WebSocket-Protocol: nova-phone.media.v1, <token>`; null when the
 * header is absent, does not offer our protocol, or offers anything but exactly one token beside it.
 */
export function streamTokenFromSubprotocols(header: string | null): string | null {
  if (header === null || header.length > 1024) return null;
  const offered = header
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  if (offered.length !== 2 || !offered.includes(SOFTPHONE_SUBPROTOCOL)) return null;
  const token = offered.find((entry) => entry !== SOFTPHONE_SUBPROTOCOL);
  return token ?? null;
}

/** Throws AppError("bad_token") unless `token` is this call's unexpired stream token. */
export async function checkSoftphoneUpgrade(
  secret: string,
  callSid: string,
  token: string | null,
  nowMs: number,
): Promise<void> {
  if (!isSoftphoneCallSid(callSid)) throw new AppError("bad_token", "not a softphone call");
  if (token === null) throw new AppError("bad_token", "no stream token offered as a subprotocol");
  await verifyToken(secret, token, { purpose: "stream", subject: callSid, nowMs });
}

/** Creates and admits a softphone call; null when no bridge can take it (it stays recorded as such). */
export async function createSoftphoneCall(deps: AnswerDeps): Promise<SoftphoneCall | null> {
  const callSid = newSoftphoneCallSid();
  const nowMs = Date.now();
  const admitted = await admitCall(deps, {
    callSid,
    accountSid: null,
    from: SOFTPHONE_FROM,
    to: SOFTPHONE_TO,
  });
  if (!admitted) return null;
  return {
    callSid,
    accountSid: SOFTPHONE_ACCOUNT_SID,
    streamPath: softphoneStreamPath(callSid),
    streamToken: admitted.streamToken,
    subprotocol: SOFTPHONE_SUBPROTOCOL,
    streamTokenExpiresAtMs: nowMs + deps.config.streamTokenTtlMs,
  };
}

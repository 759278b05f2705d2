/**
 * Helpers for the edge tests (inside workerd): act as Twilio towards the Worker (signed webhooks, the
 * media WebSocket) and steer the fake bridges that globalSetup started in Node.
 */
import { SELF } from "cloudflare:test";
import { inject } from "vitest";
import { buildConnected, buildInboundMedia, buildStart } from "../../shared/twilio-media.ts";
import type { CallRecord } from "../call-store.ts";
import { formParams, twilioSignature } from "../twilio-signature.ts";
import type { FakeBridgeInfo } from "./provided.ts";

export const edge = inject("edge");
export const PUBLIC_BASE_URL = edge.bindings.PUBLIC_BASE_URL ?? "";
export const AUTH_TOKEN = edge.bindings.TWILIO_AUTH_TOKEN ?? "";
export const ADMIN_TOKEN = edge.bindings.ADMIN_TOKEN ?? "";
export const ACCOUNT_SID = `AC${"1".repeat(32)}`;

function hex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}
export const newCallSid = (): string => `CA${hex(16)}`;
export const newStreamSid = (): string => `MZ${hex(16)}`;

export function bridge(id: string): FakeBridgeInfo {
  const found = edge.bridges.find((b) => b.id === id);
  if (!found) throw new Error(`no fake bridge ${id}`);
  return found;
}

/** Polls `probe` until it returns something other than undefined (or throws after `timeoutMs`). */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// ---- Twilio's side ---------------------------------------------------------------------------------

export async function signedPost(
  path: string,
  params: [string, string][],
  options: { signature?: string | null; workerOrigin?: string } = {},
): Promise<Response> {
  const body = new URLSearchParams(params).toString();
  const signature =
    options.signature === undefined
      ? await twilioSignature(AUTH_TOKEN, PUBLIC_BASE_URL + path, formParams(body))
      : options.signature;
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (signature !== null) headers["X-Twilio-Signature"] = signature;
  return SELF.fetch(`${options.workerOrigin ?? "http://worker.internal"}${path}`, {
    method: "POST",
    headers,
    body,
  });
}

export function voiceParams(callSid: string): [string, string][] {
  return [
    ["AccountSid", ACCOUNT_SID],
    ["CallSid", callSid],
    ["CallStatus", "ringing"],
    ["Direction", "inbound"],
    ["From", "+14155550123"],
    ["To", "+18005550100"],
  ];
}

export interface Answered {
  twiml: string;
  streamUrl: string;
  token: string;
}

/** POST /voice for a new call and pull the stream URL and token out of the TwiML. */
export async function answer(callSid: string): Promise<Answered> {
  const response = await signedPost("/voice", voiceParams(callSid));
  const twiml = await response.text();
  const streamUrl = /<Stream url="([^"]+)"/.exec(twiml)?.[1];
  const token = /<Parameter name="token" value="([^"]+)"\/>/.exec(twiml)?.[1];
  if (!streamUrl || !token) throw new Error(`no stream in TwiML: ${twiml}`);
  return { twiml, streamUrl, token };
}

export interface TwilioSide {
  socket: WebSocket;
  received: string[];
  closed: Promise<{ code: number; reason: string }>;
  send(frame: string): void;
  /** Waits until `count` frames arrived. */
  receivedAtLeast(count: number): Promise<string[]>;
}

export async function openMedia(callSid: string, signature?: string): Promise<TwilioSide> {
  const wsUrl = `${PUBLIC_BASE_URL.replace(/^http/, "ws")}/media/${callSid}`;
  const response = await SELF.fetch(`http://worker.internal/media/${callSid}`, {
    headers: {
      Upgrade: "websocket",
      "X-Twilio-Signature": signature ?? (await twilioSignature(AUTH_TOKEN, wsUrl, new Map())),
    },
  });
  const socket = response.webSocket;
  if (response.status !== 101 || !socket) throw new Error(`upgrade refused: ${response.status}`);
  socket.accept();
  const received: string[] = [];
  socket.addEventListener("message", (event) => {
    received.push(String(event.data));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason })),
  );
  return {
    socket,
    received,
    closed,
    send: (frame) => socket.send(frame),
    receivedAtLeast: (count) =>
      waitFor(() => (received.length >= count ? received : undefined), `${count} frames from the edge`),
  };
}

export interface TwilioScript {
  streamSid: string;
  connected: string;
  start: string;
  media(index: number): string;
}

export function twilioFrames(callSid: string, token: string): TwilioScript {
  const streamSid = newStreamSid();
  return {
    streamSid,
    connected: buildConnected(),
    start: buildStart({
      sequenceNumber: 1,
      streamSid,
      accountSid: ACCOUNT_SID,
      callSid,
      customParameters: { token },
    }),
    media: (index) =>
      buildInboundMedia({
        sequenceNumber: index + 2,
        streamSid,
        chunk: index + 1,
        timestampMs: index * 20,
        // A payload that names the frame, so echoes can be matched.
        payloadBase64: btoa(`frame-${String(index).padStart(6, "0")}`),
      }),
  };
}

/** Answers a call, opens its stream and sends connected + start. */
export async function startCall(callSid = newCallSid()) {
  const answered = await answer(callSid);
  const twilio = await openMedia(callSid);
  const frames = twilioFrames(callSid, answered.token);
  twilio.send(frames.connected);
  twilio.send(frames.start);
  return { callSid, answered, twilio, frames };
}

// ---- admin -----------------------------------------------------------------------------------------

export async function adminGet(path: string, token: string | null = ADMIN_TOKEN): Promise<Response> {
  return SELF.fetch(`http://worker.internal${path}`, {
    headers: token === null ? {} : { Authorization: `Bearer ${token}` },
  });
}

export async function callRecord(callSid: string): Promise<CallRecord> {
  const response = await adminGet(`/calls/${callSid}`);
  if (response.status !== 200) throw new Error(`GET /calls/${callSid}: ${response.status}`);
  return response.json<CallRecord>();
}

// ---- the fake bridges ------------------------------------------------------------------------------

export interface BridgeConnectionLog {
  frames: string[];
  headers: { protocol?: string };
  closed: { code: number; reason: string } | null;
}
export interface BridgeCallLog {
  prewarms: unknown[];
  refused: string[];
  connections: BridgeConnectionLog[];
}

async function control(bridgeId: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${bridge(bridgeId).url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export async function bridgeLog(bridgeId: string, callSid: string): Promise<BridgeCallLog> {
  return (await control(bridgeId, `/control/calls/${callSid}`)).json<BridgeCallLog>();
}

export async function bridgeSend(bridgeId: string, callSid: string, frames: string[]): Promise<void> {
  const response = await control(bridgeId, `/control/calls/${callSid}/send`, { frames });
  if (!response.ok) throw new Error(`bridge send: ${response.status} ${await response.text()}`);
}

export async function bridgeClose(
  bridgeId: string,
  callSid: string,
  how: { code?: number; reason?: string; terminate?: boolean },
): Promise<void> {
  const response = await control(bridgeId, `/control/calls/${callSid}/close`, how);
  if (!response.ok) throw new Error(`bridge close: ${response.status} ${await response.text()}`);
}

export async function setBridgeHealth(
  bridgeId: string,
  health: { status?: "ok" | "draining"; activeCalls?: number; maxCalls?: number; answers?: boolean },
): Promise<void> {
  await (await control(bridgeId, "/control/health", health)).body?.cancel();
}

export async function resetBridges(): Promise<void> {
  for (const { id } of edge.bridges)
    await setBridgeHealth(id, { status: "ok", activeCalls: 0, answers: true });
}

/** The bridge this call is streaming to (waits until one has it). */
export async function servingBridge(callSid: string): Promise<string> {
  return waitFor(async () => {
    for (const { id } of edge.bridges) {
      const log = await bridgeLog(id, callSid);
      if (log.connections.some((c) => c.closed === null)) return id;
    }
    return undefined;
  }, "a bridge connection");
}

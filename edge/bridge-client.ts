/**
 * What the edge asks of a bridge over the network: its health, a pre-warm hint, and the call's media
 * WebSocket (an outbound WebSocket from workerd: fetch with `Upgrade: websocket`, then accept()).
 */
import {
  BRIDGE_PROTOCOL_HEADER,
  BRIDGE_PROTOCOL_VERSION,
  type BridgeHealth,
  bridgeMediaPath,
  bridgePrewarmPath,
  type PrewarmRequest,
  parseBridgeHealth,
} from "../shared/bridge-protocol.ts";
import { AppError, describeError } from "../shared/errors.ts";
import { signToken } from "../shared/signed-token.ts";
import type { BridgeEndpoint } from "./config.ts";

export function signBridgeToken(
  secret: string,
  callSid: string,
  ttlMs: number,
  nowMs: number,
): Promise<string> {
  return signToken(secret, { purpose: "bridge", subject: callSid, expiresAtMs: nowMs + ttlMs });
}

function bridgeHeaders(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}`, [BRIDGE_PROTOCOL_HEADER]: String(BRIDGE_PROTOCOL_VERSION) };
}

/** GET /healthz; never throws: a failed check is a `problem`. */
export async function checkBridgeHealth(
  bridge: BridgeEndpoint,
  timeoutMs: number,
): Promise<{ health: BridgeHealth } | { problem: string }> {
  try {
    const response = await fetch(`${bridge.url}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await response.text();
    if (!response.ok) return { problem: `healthz answered ${response.status}` };
    const health = parseBridgeHealth(body);
    if (health.bridgeId !== bridge.id) return { problem: `healthz is from bridge ${health.bridgeId}` };
    return { health };
  } catch (error) {
    return { problem: `healthz failed: ${describeError(error)}` };
  }
}

/** POST /v1/calls/{callSid}/prewarm: a hint, so the caller of this does not wait for it to matter. */
export async function sendPrewarm(
  bridge: BridgeEndpoint,
  request: PrewarmRequest,
  token: string,
  timeoutMs: number,
): Promise<void> {
  const response = await fetch(`${bridge.url}${bridgePrewarmPath(request.callSid)}`, {
    method: "POST",
    headers: { ...bridgeHeaders(token), "content-type": "application/json" },
    body: JSON.stringify(request satisfies PrewarmRequest),
    signal: AbortSignal.timeout(timeoutMs),
  });
  await response.body?.cancel();
  if (!response.ok) {
    throw new AppError("bridge_unavailable", `prewarm on ${bridge.id} answered ${response.status}`);
  }
}

/** Opens the call's media WebSocket on `bridge`; throws AppError("bridge_unavailable") when refused. */
export async function openBridgeSocket(
  bridge: BridgeEndpoint,
  callSid: string,
  token: string,
  timeoutMs: number,
): Promise<WebSocket> {
  // The timeout covers the handshake only: an abort signal still armed later would tear down the socket.
  const handshake = new AbortController();
  const timer = setTimeout(() => handshake.abort(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
  let response: Response;
  try {
    response = await fetch(`${bridge.url}${bridgeMediaPath(callSid)}`, {
      headers: { ...bridgeHeaders(token), Upgrade: "websocket" },
      signal: handshake.signal,
    });
  } catch (cause) {
    throw new AppError("bridge_unavailable", `bridge ${bridge.id} did not answer the upgrade`, { cause });
  } finally {
    clearTimeout(timer);
  }
  const socket = response.webSocket;
  if (response.status !== 101 || !socket) {
    await response.body?.cancel();
    throw new AppError("bridge_unavailable", `bridge ${bridge.id} refused the upgrade (${response.status})`);
  }
  socket.accept();
  return socket;
}

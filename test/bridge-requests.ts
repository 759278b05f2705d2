/**
 * The bridge's two HTTP entry points as the edge uses them, for tests: the pre-warm hint and a raw
 * WebSocket upgrade (to see the status a refused upgrade gets, which a WebSocket client hides).
 */
import { request } from "node:http";
import {
  BRIDGE_PROTOCOL_HEADER,
  BRIDGE_PROTOCOL_VERSION,
  bridgePrewarmPath,
} from "../shared/bridge-protocol.ts";
import { bridgeToken } from "./bridge-phone.ts";

/** POSTs the pre-warm hint for `callSid` (signed with `secret`); `body` is the JSON sent. */
export async function postPrewarm(
  baseUrl: string,
  secret: string,
  callSid: string,
  body: Record<string, unknown>,
): Promise<Response> {
  return fetch(`${baseUrl}${bridgePrewarmPath(callSid)}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${await bridgeToken(secret, callSid)}`,
      [BRIDGE_PROTOCOL_HEADER]: String(BRIDGE_PROTOCOL_VERSION),
      "content-type": "application/json",
    },
    body: JSON.stringify(body),
  });
}

/** Attempts a WebSocket upgrade; resolves with the HTTP status (101 when accepted) and the body. */
export function tryUpgrade(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        ...headers,
      },
    });
    req.on("upgrade", (_response, socket) => {
      socket.destroy();
      resolve({ status: 101, body: "" });
    });
    req.on("response", (response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/**
 * A stand-in for the bridge (Node, real HTTP + `ws` WebSocket server), speaking the bridge side of
 * shared/bridge-protocol.ts: GET /healthz, POST /v1/calls/{sid}/prewarm, the media WebSocket (token and
 * protocol header checked before the upgrade). It echoes caller media back as Twilio-bound media and
 * records everything it receives. Tests steer it over HTTP (`/control/...`): what health to report,
 * frames to send, how to close (cleanly, with a code, or by dropping the TCP connection).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { Duplex } from "node:stream";
import type { WebSocket, WebSocketServer as WebSocketServerClass } from "ws";
import {
  BRIDGE_PROTOCOL_HEADER,
  BRIDGE_PROTOCOL_VERSION,
  type BridgeHealth,
  buildBridgeControl,
  CONTROL_PREFIX,
  parsePrewarmRequest,
} from "../../shared/bridge-protocol.ts";
import { verifyToken } from "../../shared/signed-token.ts";
import { buildMedia } from "../../shared/twilio-media.ts";

export interface FakeBridgeOptions {
  id: string;
  region: string;
  secret: string;
  /** Echo caller media back (default true). */
  echo?: boolean;
  /**
   * Benchmarks: stamp each echoed payload with when its frame arrived and when the echo left, as
   * `process.hrtime` nanoseconds (CLOCK_MONOTONIC, one clock for every process on the machine), big-endian
   * 64-bit at bytes 16 and 24 of the μ-law payload. The payload must be at least 32 bytes.
   */
  stampEcho?: boolean;
  host?: string;
}

interface Connection {
  socket: WebSocket;
  frames: string[];
  headers: { protocol: string | undefined };
  closed: { code: number; reason: string } | null;
  streamSid: string | null;
}

interface CallLog {
  prewarms: unknown[];
  refused: string[];
  connections: Connection[];
}

export interface FakeBridge {
  id: string;
  region: string;
  url: string;
  port: number;
  close(): Promise<void>;
}

// The edge project's Vite config resolves packages for workerd (ws → its browser stub); this file runs in
// Node, so load ws the Node way.
const { WebSocketServer } = createRequire(import.meta.url)("ws") as {
  WebSocketServer: typeof WebSocketServerClass;
};

const MEDIA_PATH = /^\/v1\/calls\/(CA[0-9a-fA-F]{32})\/media$/;
const PREWARM_PATH = /^\/v1\/calls\/(CA[0-9a-fA-F]{32})\/prewarm$/;
const CONTROL_CALL_PATH = /^\/control\/calls\/(CA[0-9a-fA-F]{32})(?:\/(send|close))?$/;

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

function bearer(request: IncomingMessage): string {
  const header = request.headers.authorization ?? "";
  return header.startsWith("Bearer ") ? header.slice("Bearer ".length) : "";
}

export async function startFakeBridge(options: FakeBridgeOptions): Promise<FakeBridge> {
  const calls = new Map<string, CallLog>();
  const health: BridgeHealth = {
    status: "ok",
    bridgeId: options.id,
    region: options.region,
    protocolVersion: BRIDGE_PROTOCOL_VERSION,
    activeCalls: 0,
    maxCalls: 100,
  };
  let healthAnswers = true;
  const echo = options.echo ?? true;
  const logOf = (callSid: string): CallLog => {
    let log = calls.get(callSid);
    if (!log) {
      log = { prewarms: [], refused: [], connections: [] };
      calls.set(callSid, log);
    }
    return log;
  };
  const tokenProblem = async (request: IncomingMessage, callSid: string): Promise<string | null> => {
    try {
      await verifyToken(options.secret, bearer(request), {
        purpose: "bridge",
        subject: callSid,
        nowMs: Date.now(),
      });
    } catch (error) {
      return error instanceof Error ? error.message : "bad token";
    }
    return null;
  };

  const sockets = new WebSocketServer({ noServer: true, maxPayload: 4 * 1024 * 1024 });

  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://bridge.test");
    try {
      if (request.method === "GET" && url.pathname === "/healthz") {
        if (!healthAnswers) return json(response, 503, { error: "unavailable" });
        return json(response, 200, health);
      }
      const prewarm = PREWARM_PATH.exec(url.pathname);
      if (request.method === "POST" && prewarm?.[1]) {
        const callSid = prewarm[1];
        const problem = await tokenProblem(request, callSid);
        if (problem) return json(response, 401, { error: problem });
        logOf(callSid).prewarms.push(parsePrewarmRequest(await readBody(request)));
        return json(response, 202, { ok: true });
      }
      if (request.method === "POST" && url.pathname === "/control/health") {
        const body = JSON.parse(await readBody(request)) as Partial<BridgeHealth> & { answers?: boolean };
        if (body.status !== undefined) health.status = body.status;
        if (body.activeCalls !== undefined) health.activeCalls = body.activeCalls;
        if (body.maxCalls !== undefined) health.maxCalls = body.maxCalls;
        if (body.answers !== undefined) healthAnswers = body.answers;
        return json(response, 200, health);
      }
      const control = CONTROL_CALL_PATH.exec(url.pathname);
      if (control?.[1]) {
        const log = logOf(control[1]);
        const latest = log.connections.at(-1);
        if (request.method === "GET") {
          return json(response, 200, {
            prewarms: log.prewarms,
            refused: log.refused,
            connections: log.connections.map((c) => ({
              frames: c.frames,
              headers: c.headers,
              closed: c.closed,
            })),
          });
        }
        const body = JSON.parse((await readBody(request)) || "{}") as {
          frames?: string[];
          code?: number;
          reason?: string;
          terminate?: boolean;
        };
        if (!latest || latest.closed) return json(response, 409, { error: "no open connection" });
        if (control[2] === "send") {
          for (const frame of body.frames ?? []) latest.socket.send(frame);
          return json(response, 200, { sent: body.frames?.length ?? 0 });
        }
        if (control[2] === "close") {
          if (body.terminate) latest.socket.terminate();
          else latest.socket.close(body.code ?? 1000, body.reason ?? "");
          return json(response, 200, { closed: true });
        }
      }
      json(response, 404, { error: "not found" });
    } catch (error) {
      json(response, 500, { error: error instanceof Error ? error.message : String(error) });
    }
  });

  server.on("upgrade", async (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? "/", "http://bridge.test");
    const callSid = MEDIA_PATH.exec(url.pathname)?.[1];
    const refuse = (status: number, reason: string) => {
      if (callSid) logOf(callSid).refused.push(reason);
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (!callSid) return refuse(404, "Not Found");
    const protocol = request.headers[BRIDGE_PROTOCOL_HEADER];
    if (protocol !== String(BRIDGE_PROTOCOL_VERSION)) return refuse(400, "Unsupported Protocol");
    const problem = await tokenProblem(request, callSid);
    if (problem) return refuse(401, "Unauthorized");
    sockets.handleUpgrade(request, socket, head, (ws) => {
      const connection: Connection = {
        socket: ws,
        frames: [],
        headers: { protocol: typeof protocol === "string" ? protocol : undefined },
        closed: null,
        streamSid: null,
      };
      logOf(callSid).connections.push(connection);
      health.activeCalls++;
      ws.on("message", (data, isBinary) => {
        const receivedNs = process.hrtime.bigint();
        const frame = isBinary ? `<binary ${Buffer.byteLength(data as Buffer)}>` : data.toString();
        connection.frames.push(frame);
        if (frame.startsWith(CONTROL_PREFIX) || isBinary) return;
        let message: { event?: string; streamSid?: string; media?: { payload?: string } };
        try {
          message = JSON.parse(frame) as typeof message;
        } catch {
          return;
        }
        if (message.event === "start" && message.streamSid) {
          connection.streamSid = message.streamSid;
          ws.send(
            buildBridgeControl({
              bridge: "ready",
              protocolVersion: BRIDGE_PROTOCOL_VERSION,
              bridgeId: options.id,
              sessionWarm: logOf(callSid).prewarms.length > 0,
            }),
          );
        }
        if (echo && message.event === "media" && connection.streamSid && message.media?.payload) {
          let payload = message.media.payload;
          if (options.stampEcho) {
            const bytes = Buffer.from(payload, "base64");
            bytes.writeBigUInt64BE(receivedNs, 16);
            bytes.writeBigUInt64BE(process.hrtime.bigint(), 24);
            payload = bytes.toString("base64");
          }
          ws.send(buildMedia(connection.streamSid, payload));
        }
      });
      ws.on("close", (code, reason) => {
        connection.closed = { code, reason: reason.toString() };
        health.activeCalls = Math.max(0, health.activeCalls - 1);
      });
      ws.on("error", () => undefined);
    });
  });

  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("fake bridge: no port");
  return {
    id: options.id,
    region: options.region,
    port: address.port,
    url: `http://${host}:${address.port}`,
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

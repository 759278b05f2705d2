/**
 * The bridge's front door: node:http + `ws` (noServer), so that every check happens BEFORE the upgrade and
 * a refused edge gets a plain HTTP status with a JSON body it can log:
 *   GET  /v1/calls/{callSid}/media    WebSocket, one per call (Bearer token for that CallSid + protocol header)
 *   POST /v1/calls/{callSid}/prewarm  starts opening the call's model session ahead of the media stream
 *   GET  /healthz                     BridgeHealth
 *   GET  /metrics                     call counts and the fast paths' figures (JSON)
 * Calls live in a Map keyed by CallSid, owned by the server instance. A malformed frame closes only its own
 * call, with a named close code; one call's failure never touches another.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import {
  BRIDGE_PROTOCOL_HEADER,
  BRIDGE_PROTOCOL_VERSION,
  BridgeCloseCode,
  type BridgeHealth,
  closeCodeName,
  type EdgeControl,
  MAX_CONTROL_FRAME_CHARS,
  type PrewarmRequest,
  parsePrewarmRequest,
} from "../shared/bridge-protocol.ts";
import { AppError, describeError, errorCode } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import { verifyToken } from "../shared/signed-token.ts";
import type { TwilioInbound } from "../shared/twilio-media.ts";
import { classifyEdgeFrame } from "./edge-frames.ts";

/** The call's side of its WebSocket, as the call sees it. */
export interface EdgeLink {
  send(frame: string): void;
  close(code: number, reason: string): void;
  readonly open: boolean;
}

export type CallEndReason =
  | { kind: "socket-closed"; code: number }
  | { kind: "protocol-error"; code: number; error: AppError }
  | { kind: "replaced" }
  | { kind: "bridge-closing" };

export interface CallEndpoint {
  handleTwilio(message: TwilioInbound, receivedMs: number): void;
  handleControl(message: EdgeControl, receivedMs: number): void;
  /** The link is gone or going: close the model session in order. Idempotent; resolves when done. */
  end(reason: CallEndReason): Promise<void>;
}

/** Makes calls; `Warm` is whatever a pre-warm prepares (an opening model session). */
export interface CallFactory<Warm> {
  prewarm(request: PrewarmRequest, logger: Logger): Warm;
  disposeWarm(warm: Warm): void;
  startCall(args: { callSid: string; link: EdgeLink; warm: Warm | null; logger: Logger }): CallEndpoint;
}

export interface BridgeServerOptions<Warm> {
  secret: string;
  bridgeId: string;
  region: string;
  maxCalls: number;
  logger: Logger;
  factory: CallFactory<Warm>;
  /** How long a pre-warmed session waits for its media stream. */
  prewarmTtlMs?: number;
  /** Extra figures for GET /metrics (the warm pool, session and greeting timings). */
  metrics?: () => Record<string, unknown>;
  now?: () => number;
}

export interface BridgeStats {
  activeCalls: number;
  callsStarted: number;
  malformedFrames: number;
  refusedUpgrades: number;
  prewarmed: number;
}

/** After a handover close, how long the bridge waits for the edges to answer it. */
const HANDOVER_CLOSE_WAIT_MS = 1000;
const MEDIA_PATH = /^\/v1\/calls\/(CA[0-9a-fA-F]{32})\/media$/;
const PREWARM_PATH = /^\/v1\/calls\/(CA[0-9a-fA-F]{32})\/prewarm$/;

interface ActiveCall {
  socket: WebSocket;
  endpoint: CallEndpoint;
}

interface WarmEntry<Warm> {
  warm: Warm;
  timer: NodeJS.Timeout;
}

class HttpRefusal extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  404: "Not Found",
  405: "Method Not Allowed",
  426: "Upgrade Required",
  503: "Service Unavailable",
};

export class BridgeServer<Warm> {
  readonly #options: BridgeServerOptions<Warm>;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #calls = new Map<string, ActiveCall>();
  readonly #warm = new Map<string, WarmEntry<Warm>>();
  readonly #stats = { callsStarted: 0, malformedFrames: 0, refusedUpgrades: 0 };
  #draining = false;
  /** Resolves when the last call has left (set while draining). */
  #onIdle: (() => void) | null = null;

  constructor(options: BridgeServerOptions<Warm>) {
    this.#options = options;
    this.#log = options.logger;
    this.#now = options.now ?? (() => performance.timeOrigin + performance.now());
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CONTROL_FRAME_CHARS * 4 });
    this.#http = createServer((request, response) => {
      this.#route(request, response).catch((error: unknown) => this.#answerError(response, error));
    });
    this.#http.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#upgrade(request, socket, head).catch((error: unknown) => this.#refuseUpgrade(socket, error));
    });
  }

  listen(port: number, host: string): Promise<{ port: number; host: string }> {
    return new Promise((resolve, reject) => {
      this.#http.once("error", reject);
      this.#http.listen(port, host, () => {
        this.#http.off("error", reject);
        const address = this.#http.address();
        resolve({ port: typeof address === "object" && address ? address.port : port, host });
      });
    });
  }

  health(): BridgeHealth {
    return {
      status: this.#draining ? "draining" : "ok",
      bridgeId: this.#options.bridgeId,
      region: this.#options.region,
      protocolVersion: BRIDGE_PROTOCOL_VERSION,
      activeCalls: this.#calls.size,
      maxCalls: this.#options.maxCalls,
    };
  }

  stats(): BridgeStats {
    return { ...this.#stats, activeCalls: this.#calls.size, prewarmed: this.#warm.size };
  }

  /**
   * SIGTERM: stops taking calls (health says draining, new streams and pre-warms get 503), lets the calls
   * in progress end on their own for up to `timeoutMs`, then hands the rest over (DRAINING: the edge
   * resumes them on another bridge with their history), and closes. Resolves with how many were handed
   * over.
   */
  async drain(timeoutMs: number): Promise<{ finished: number; handedOver: number }> {
    this.#draining = true;
    for (const [callSid, entry] of this.#warm) this.#dropWarm(callSid, entry);
    const inProgress = this.#calls.size;
    this.#log.info("draining", { activeCalls: inProgress, timeoutMs });
    await this.#idle(timeoutMs);
    const remaining = [...this.#calls.values()];
    if (remaining.length > 0)
      this.#log.info("drain time is up: handing calls over", { calls: remaining.length });
    await Promise.allSettled(
      remaining.map(async ({ socket, endpoint }) => {
        await endpoint.end({ kind: "bridge-closing" });
        socket.close(BridgeCloseCode.DRAINING, "bridge draining: resume elsewhere");
      }),
    );
    // Let the close handshakes finish, so that each edge reads DRAINING, not a dropped connection.
    await this.#idle(HANDOVER_CLOSE_WAIT_MS);
    await this.close();
    return { finished: inProgress - remaining.length, handedOver: remaining.length };
  }

  /** Resolves when no call is left, or after `timeoutMs`. */
  async #idle(timeoutMs: number): Promise<void> {
    if (this.#calls.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => {
        this.#onIdle = resolve;
      }),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    this.#onIdle = null;
  }

  /** Stops accepting, ends every call (GOING_AWAY) and pre-warmed session, and closes the listener. */
  async close(): Promise<void> {
    this.#draining = true;
    for (const [callSid, entry] of this.#warm) this.#dropWarm(callSid, entry);
    const ending = [...this.#calls.values()].map(async ({ socket, endpoint }) => {
      await endpoint.end({ kind: "bridge-closing" });
      socket.close(BridgeCloseCode.GOING_AWAY, "bridge closing");
    });
    await Promise.allSettled(ending);
    for (const { socket } of this.#calls.values()) socket.terminate();
    this.#calls.clear();
    this.#wss.close();
    await new Promise<void>((resolve) => {
      this.#http.close(() => resolve());
      this.#http.closeAllConnections();
    });
  }

  async #route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    if (path === "/healthz") {
      if (request.method !== "GET") throw new HttpRefusal(405, "method", "use GET");
      this.#answer(response, this.#draining ? 503 : 200, this.health());
      return;
    }
    if (path === "/metrics") {
      if (request.method !== "GET") throw new HttpRefusal(405, "method", "use GET");
      this.#answer(response, 200, {
        ...this.health(),
        ...this.stats(),
        ...this.#options.metrics?.(),
      });
      return;
    }
    const prewarm = PREWARM_PATH.exec(path);
    if (prewarm) {
      if (request.method !== "POST") throw new HttpRefusal(405, "method", "use POST");
      const callSid = prewarm[1]!;
      await this.#authorize(request, callSid);
      const body = parsePrewarmRequest(await readBody(request, 64 * 1024));
      if (body.callSid !== callSid)
        throw new HttpRefusal(400, "bad_frame", "body callSid differs from the path");
      this.#checkCapacity();
      this.#prewarm(body);
      this.#answer(response, 202, { prewarmed: true, callSid });
      return;
    }
    if (MEDIA_PATH.test(path)) throw new HttpRefusal(426, "upgrade_required", "this path is a WebSocket");
    throw new HttpRefusal(404, "not_found", `no route for ${path}`);
  }

  async #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    const match = MEDIA_PATH.exec(path);
    if (!match) throw new HttpRefusal(404, "not_found", `no WebSocket at ${path}`);
    const callSid = match[1]!;
    const version = request.headers[BRIDGE_PROTOCOL_HEADER];
    if (version !== String(BRIDGE_PROTOCOL_VERSION)) {
      throw new HttpRefusal(
        426,
        "protocol_version",
        `${BRIDGE_PROTOCOL_HEADER} must be ${BRIDGE_PROTOCOL_VERSION}, got ${JSON.stringify(version ?? null)}`,
      );
    }
    await this.#authorize(request, callSid);
    if (!this.#calls.has(callSid)) this.#checkCapacity();
    if (socket.destroyed) return;
    this.#wss.handleUpgrade(request, socket, head, (ws) => this.#accept(callSid, ws));
  }

  #accept(callSid: string, socket: WebSocket): void {
    const log = this.#log.child({ callSid });
    const previous = this.#calls.get(callSid);
    if (previous) {
      log.warn("call reconnected: the previous stream is replaced");
      this.#calls.delete(callSid);
      void previous.endpoint.end({ kind: "replaced" });
      previous.socket.close(BridgeCloseCode.NORMAL, "replaced by a new stream");
    }
    const warmEntry = this.#warm.get(callSid);
    if (warmEntry) {
      clearTimeout(warmEntry.timer);
      this.#warm.delete(callSid);
    }
    const link: EdgeLink = {
      send: (frame) => {
        if (socket.readyState === socket.OPEN) socket.send(frame);
      },
      close: (code, reason) => {
        if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) {
          socket.close(code, reason);
        }
      },
      get open() {
        return socket.readyState === socket.OPEN;
      },
    };
    let endpoint: CallEndpoint;
    try {
      endpoint = this.#options.factory.startCall({
        callSid,
        link,
        warm: warmEntry?.warm ?? null,
        logger: log,
      });
    } catch (error) {
      log.error("call could not start", { code: errorCode(error), error: describeError(error) });
      socket.close(BridgeCloseCode.CALL_FAILED, "call could not start");
      return;
    }
    this.#stats.callsStarted++;
    const call: ActiveCall = { socket, endpoint };
    this.#calls.set(callSid, call);
    log.info("call stream accepted", { activeCalls: this.#calls.size, warm: warmEntry !== undefined });

    socket.on("message", (data, isBinary) => {
      const receivedMs = this.#now();
      const text = isBinary ? "" : data.toString();
      const frame = classifyEdgeFrame(isBinary ? new Uint8Array(0) : text, isBinary);
      try {
        if (frame.kind === "twilio") endpoint.handleTwilio(frame.message, receivedMs);
        else if (frame.kind === "control") endpoint.handleControl(frame.message, receivedMs);
        else {
          this.#stats.malformedFrames++;
          log.warn("malformed frame from the edge", {
            code: frame.error.code,
            error: frame.error.message,
            closeCode: closeCodeName(frame.closeCode),
          });
          void endpoint.end({ kind: "protocol-error", code: frame.closeCode, error: frame.error });
          socket.close(frame.closeCode, closeReason(frame.error.message));
        }
      } catch (error) {
        // A frame out of order ends its call with PROTOCOL_ERROR; a bug ends the call, never the process.
        const outOfOrder = error instanceof AppError && error.code === "bad_frame";
        const closeCode = outOfOrder ? BridgeCloseCode.PROTOCOL_ERROR : BridgeCloseCode.CALL_FAILED;
        if (outOfOrder) this.#stats.malformedFrames++;
        log.error("call handler failed", { code: errorCode(error), error: describeError(error) });
        void endpoint.end({ kind: "protocol-error", code: closeCode, error: asAppError(error) });
        socket.close(closeCode, outOfOrder ? closeReason(describeError(error)) : "call failed");
      }
    });
    socket.on("error", (error) => log.warn("edge socket error", { error: describeError(error) }));
    socket.on("close", (code) => {
      if (this.#calls.get(callSid) === call) this.#calls.delete(callSid);
      if (this.#calls.size === 0) this.#onIdle?.();
      void endpoint.end({ kind: "socket-closed", code });
      log.info("call stream closed", { closeCode: closeCodeName(code), activeCalls: this.#calls.size });
    });
  }

  #prewarm(request: PrewarmRequest): void {
    const existing = this.#warm.get(request.callSid);
    if (existing || this.#calls.has(request.callSid)) return;
    const log = this.#log.child({ callSid: request.callSid });
    const warm = this.#options.factory.prewarm(request, log);
    const timer = setTimeout(() => {
      log.info("pre-warmed session unused: closed");
      const entry = this.#warm.get(request.callSid);
      if (entry) this.#dropWarm(request.callSid, entry);
    }, this.#options.prewarmTtlMs ?? 30_000);
    timer.unref();
    this.#warm.set(request.callSid, { warm, timer });
  }

  #dropWarm(callSid: string, entry: WarmEntry<Warm>): void {
    clearTimeout(entry.timer);
    this.#warm.delete(callSid);
    this.#options.factory.disposeWarm(entry.warm);
  }

  async #authorize(request: IncomingMessage, callSid: string): Promise<void> {
    const header = request.headers.authorization ?? "";
    const token = /^Bearer ([^\s]+)$/.exec(header)?.[1];
    if (!token) throw new HttpRefusal(401, "bad_token", "missing Authorization: Bearer <token>");
    try {
      await verifyToken(this.#options.secret, token, {
        purpose: "bridge",
        subject: callSid,
        nowMs: this.#now(),
      });
    } catch (error) {
      throw new HttpRefusal(401, "bad_token", error instanceof AppError ? error.message : "token rejected");
    }
  }

  #checkCapacity(): void {
    if (this.#draining) throw new HttpRefusal(503, "draining", "bridge is draining");
    if (this.#calls.size + this.#warm.size >= this.#options.maxCalls) {
      throw new HttpRefusal(503, "bridge_unavailable", `bridge is full (${this.#options.maxCalls} calls)`);
    }
  }

  #answer(response: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    response.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(text),
    });
    response.end(text);
  }

  #answerError(response: ServerResponse, error: unknown): void {
    const refusal = asRefusal(error);
    if (refusal.status >= 500 || refusal.status === 401) {
      this.#log.warn("http request refused", {
        status: refusal.status,
        code: refusal.code,
        error: refusal.message,
      });
    }
    if (!response.headersSent)
      this.#answer(response, refusal.status, { error: refusal.code, message: refusal.message });
    else response.destroy();
  }

  #refuseUpgrade(socket: Duplex, error: unknown): void {
    this.#stats.refusedUpgrades++;
    const refusal = asRefusal(error);
    this.#log.warn("upgrade refused", { status: refusal.status, code: refusal.code, error: refusal.message });
    if (socket.destroyed) return;
    const body = JSON.stringify({ error: refusal.code, message: refusal.message });
    const extra = refusal.status === 426 ? `${BRIDGE_PROTOCOL_HEADER}: ${BRIDGE_PROTOCOL_VERSION}\r\n` : "";
    socket.end(
      `HTTP/1.1 ${refusal.status} ${STATUS_TEXT[refusal.status] ?? "Error"}\r\n` +
        `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}` +
        `connection: close\r\n\r\n${body}`,
    );
  }
}

/** A WebSocket close reason must fit in 123 bytes of UTF-8. */
function closeReason(text: string): string {
  let reason = text.slice(0, 123);
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return reason;
}

function asAppError(error: unknown): AppError {
  return error instanceof AppError ? error : new AppError("internal", describeError(error), { cause: error });
}

function asRefusal(error: unknown): HttpRefusal {
  if (error instanceof HttpRefusal) return error;
  if (error instanceof AppError) {
    const status = error.code === "bad_token" ? 401 : error.code === "internal" ? 500 : 400;
    return new HttpRefusal(status, error.code, error.message);
  }
  return new HttpRefusal(500, "internal", "internal error");
}

function readBody(request: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new AppError("frame_too_large", `body exceeds ${maxBytes} bytes`));
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

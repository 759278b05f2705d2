/**
 * POST /model/{modelId}/invoke-with-bidirectional-stream: what Bedrock does with one bidirectional stream.
 * HTTP-level checks first (HTTP/2, model id, SigV4, throttling), each refused with the status and
 * x-amzn-errortype the service uses; then 200 with an event stream whose input frames are unwrapped,
 * signature-checked, parsed and handed to a SimSession, and whose output the session writes back.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Http2ServerRequest, type Http2ServerResponse, constants as http2constants } from "node:http2";
import { AppError, describeError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/log.ts";
import { parseNovaInputEvent } from "../../shared/nova-events.ts";
import { encodeChunkFrame, encodeExceptionFrame, FrameSplitter, unwrapInputFrame } from "./event-stream.ts";
import type { FaultPlan } from "./faults.ts";
import type { ModelBehaviour, SessionOutput } from "./model-behaviour.ts";
import { newSessionRecord, type SessionRegistry } from "./records.ts";
import { SimSession } from "./session.ts";
import {
  AuthFailure,
  type SigningContext,
  type StaticCredentials,
  verifyFrameSignature,
  verifyRequestSignature,
} from "./sigv4.ts";

export type AnyRequest = IncomingMessage | Http2ServerRequest;
export type AnyResponse = ServerResponse | Http2ServerResponse;

export interface StreamDeps {
  behaviour: ModelBehaviour;
  modelIds: readonly string[];
  credentials: StaticCredentials | undefined;
  region: string | undefined;
  streamSetupMs: number;
  faults: FaultPlan;
  sessions: SessionRegistry;
  active: Set<SimSession>;
  log: Logger;
}

export const BIDI_PATH = /^\/model\/([^/]+)\/invoke-with-bidirectional-stream$/;

/** Writes a complete response on either protocol version. */
export function respond(
  res: AnyResponse,
  status: number,
  headers: Record<string, string>,
  body: string,
): void {
  if (res.headersSent) return;
  if ("stream" in res) res.writeHead(status, headers).end(body);
  else res.writeHead(status, headers).end(body);
}

export function sendHttpError(res: AnyResponse, status: number, errorType: string, message: string): void {
  const headers = {
    "content-type": "application/json",
    "x-amzn-errortype": errorType,
    "x-amzn-requestid": randomUUID(),
  };
  respond(res, status, headers, JSON.stringify({ message }));
}

export function handleBidirectionalStream(
  req: AnyRequest,
  res: AnyResponse,
  modelId: string,
  deps: StreamDeps,
): void {
  const log = deps.log;
  if (req.httpVersionMajor !== 2 || !("stream" in res)) {
    sendHttpError(res, 505, "ValidationException", "This operation requires HTTP/2.");
    return;
  }
  if (req.method !== "POST") {
    sendHttpError(res, 405, "UnknownOperationException", `${req.method} is not supported here`);
    return;
  }
  if (!deps.modelIds.includes(modelId)) {
    sendHttpError(res, 400, "ValidationException", "The provided model identifier is invalid.");
    return;
  }
  let signing: SigningContext | undefined;
  if (deps.credentials) {
    try {
      signing = verifyRequestSignature(
        { method: req.method, url: req.url ?? "", headers: req.headers },
        deps.credentials,
        { service: "bedrock", ...(deps.region ? { region: deps.region } : {}) },
        Date.now(),
      );
    } catch (error) {
      if (!(error instanceof AuthFailure)) throw error;
      log.info("request refused", { errorType: error.errorType });
      sendHttpError(res, 403, error.errorType, error.message);
      return;
    }
  }
  const faults = deps.faults.takeForNewSession();
  if (faults.some((fault) => fault.kind === "throttle" && fault.where === "http")) {
    log.info("request throttled (fault)");
    sendHttpError(res, 429, "ThrottlingException", "Too many requests, please wait before trying again.");
    return;
  }
  const record = newSessionRecord(randomUUID(), modelId, faults, deps.behaviour.now());
  deps.sessions.add(record);
  const sessionLog = log.child({ session: record.id });
  let outputDone = false;
  const output: SessionOutput = {
    event(wire) {
      if (!outputDone && !res.destroyed) res.write(encodeChunkFrame(JSON.stringify(wire)));
    },
    exception(type, message) {
      if (outputDone) return;
      outputDone = true;
      if (!res.destroyed) res.end(encodeExceptionFrame(type, message));
    },
    reset() {
      if (outputDone) return;
      outputDone = true;
      res.stream.close(http2constants.NGHTTP2_INTERNAL_ERROR);
    },
    end() {
      if (outputDone) return;
      outputDone = true;
      if (!res.destroyed) res.end();
    },
  };
  const session = new SimSession(record, deps.behaviour, output, sessionLog);
  deps.active.add(session);
  const splitter = new FrameSplitter();
  let priorSignature = signing?.seedSignature ?? "";
  let inputClosed = false;

  const onFrame = (frame: Uint8Array) => {
    const envelope = unwrapInputFrame(frame);
    if (signing) {
      if (envelope.dateMs === undefined || envelope.signatureHex === undefined) {
        throw new AppError("bad_signature", "input frame is not signed");
      }
      priorSignature = verifyFrameSignature(signing, priorSignature, {
        dateMs: envelope.dateMs,
        signatureHex: envelope.signatureHex,
        payload: envelope.payload,
      });
    }
    if (envelope.eventBytes === undefined) {
      inputClosed = true;
      return;
    }
    if (inputClosed) throw new AppError("bad_frame", "input frame after the end-of-input frame");
    session.receive(parseNovaInputEvent(envelope.eventBytes));
  };

  const begin = () => {
    if (res.destroyed) {
      finish("client_gone");
      return;
    }
    res.writeHead(200, {
      "content-type": "application/vnd.amazon.eventstream",
      "x-amzn-requestid": record.id,
    });
    // writeHead sends the headers at once: the stream is open although the SDK's send() only settles at
    // the first output event.
    session.start();
    req.on("data", (chunk: Buffer) => {
      if (session.closed) return;
      try {
        for (const frame of splitter.push(chunk)) onFrame(frame);
      } catch (error) {
        const message = error instanceof AuthFailure ? error.message : describeError(error);
        sessionLog.info("input refused", { error: message });
        session.reject(message);
      }
    });
    req.on("end", () => {
      if (!session.closed) session.inputEnded();
    });
  };

  const finish = (reason: string) => {
    session.dispose(reason);
    deps.active.delete(session);
  };

  res.on("close", () => finish("client_gone"));
  res.stream.on("close", () => finish("stream_closed"));
  if (deps.streamSetupMs > 0) setTimeout(begin, deps.streamSetupMs);
  else begin();
}

/**
 * The local Nova Sonic endpoint: an HTTP/2 server (cleartext h2c on loopback by default, TLS optional)
 * that speaks Bedrock's InvokeModelWithBidirectionalStream, so that the unmodified AWS SDK reaches it
 * through AWS_ENDPOINT_URL_BEDROCK_RUNTIME or the client's `endpoint` option. The same port serves the
 * /_sim control routes (HTTP/2; with TLS also HTTP/1.1; see control-client.ts, or curl
 * --http2-prior-knowledge). An optional delay per new connection emulates the TCP+TLS set-up to a region.
 */
import http2 from "node:http2";
import net from "node:net";
import { Logger as JsonLogger, type Logger } from "../../shared/log.ts";
import type { EndpointingSensitivity } from "../../shared/nova-events.ts";
import {
  type AnyRequest,
  type AnyResponse,
  BIDI_PATH,
  handleBidirectionalStream,
  sendHttpError,
} from "./bidi-stream.ts";
import { handleControl } from "./control-routes.ts";
import {
  DEFAULT_MIN_SPEECH_MS,
  DEFAULT_SPEECH_THRESHOLD_DBFS,
  PAUSE_MS_BY_SENSITIVITY,
} from "./endpointing.ts";
import { FaultPlan } from "./faults.ts";
import { DEFAULT_HISTORY_LIMITS, type HistoryLimits } from "./input-protocol.ts";
import { DEFAULT_MODEL_LATENCY, type LatencyDistribution, latencySampler, seededRandom } from "./latency.ts";
import { DEFAULT_TOOL_TRIGGERS, type ModelBehaviour, type ToolTrigger } from "./model-behaviour.ts";
import { preciseNowMs, SessionRegistry } from "./records.ts";
import { ReplyLibrary } from "./replies.ts";
import type { SimSession } from "./session.ts";
import type { StaticCredentials } from "./sigv4.ts";
import { UtteranceCatalogue } from "./transcripts.ts";

export const KNOWN_MODEL_IDS = ["amazon.nova-2-sonic-v1:0", "amazon.nova-sonic-v1:0"] as const;
/** Nova Sonic's session limit. */
export const DEFAULT_SESSION_LIMIT_MS = 8 * 60 * 1000;

export interface SimulatorOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Serve TLS (h2 with ALPN, HTTP/1.1 allowed for the control routes) instead of cleartext. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** When set, every request and every input frame must carry a valid SigV4 signature by these. */
  credentials?: StaticCredentials;
  /** When set, the signature's credential scope must name this region. */
  region?: string;
  modelIds?: readonly string[];
  /** Delay before a new connection is served (TCP+TLS set-up to a region, e.g. 150). */
  connectionSetupMs?: number;
  /** Delay before each stream's 200 response (request routing inside the service). */
  streamSetupMs?: number;
  modelLatency?: LatencyDistribution;
  /** Seed of the latency draws; default: a random seed. */
  seed?: number;
  /** Turn-end pause per endpointing sensitivity; defaults to the documented 1.5 / 1.75 / 2 s. */
  pauseMsBySensitivity?: Partial<Record<EndpointingSensitivity, number>>;
  defaultSensitivity?: EndpointingSensitivity;
  speechThresholdDbfs?: number;
  minSpeechMs?: number;
  /**
   * Extra caller speech (ms) over an audible reply before the model declares an interruption; default 0.
   * A large value leaves barge-in to the bridge's own VAD, as with a model slow to notice.
   */
  bargeInDetectionMs?: number;
  /** Caller speech over a still-playing reply shorter than this is a back-channel, not a turn; default 600. */
  backchannelMaxMs?: number;
  /** Duration of each audioOutput chunk (default 100 ms). */
  audioChunkMs?: number;
  /** Audio generation speed, in multiples of real time (default 4). */
  generationSpeed?: number;
  sessionLimitMs?: number;
  toolTriggers?: readonly ToolTrigger[];
  historyLimits?: HistoryLimits;
  /** Known caller utterances: a catalogue, or a fixture manifest to learn one from. */
  catalogue?: UtteranceCatalogue;
  utteranceManifest?: string;
  maxSessionRecords?: number;
  logger?: Logger;
}

export interface NovaSimulator {
  /** Base URL for AWS_ENDPOINT_URL_BEDROCK_RUNTIME, e.g. http://127.0.0.1:8788 */
  readonly url: string;
  readonly port: number;
  readonly faults: FaultPlan;
  readonly sessions: SessionRegistry;
  activeSessions(): number;
  close(): Promise<void>;
}

function behaviourFrom(options: SimulatorOptions): ModelBehaviour {
  const random = seededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  return {
    replies: ReplyLibrary.load(),
    catalogue:
      options.catalogue ??
      (options.utteranceManifest ? UtteranceCatalogue.fromManifest(options.utteranceManifest) : undefined),
    drawLatencyMs: latencySampler(options.modelLatency ?? DEFAULT_MODEL_LATENCY, random),
    pauseMsBySensitivity: { ...PAUSE_MS_BY_SENSITIVITY, ...options.pauseMsBySensitivity },
    defaultSensitivity: options.defaultSensitivity ?? "MEDIUM",
    speechThresholdDbfs: options.speechThresholdDbfs ?? DEFAULT_SPEECH_THRESHOLD_DBFS,
    minSpeechMs: options.minSpeechMs ?? DEFAULT_MIN_SPEECH_MS,
    bargeInDetectionMs: options.bargeInDetectionMs ?? 0,
    backchannelMaxMs: options.backchannelMaxMs ?? 600,
    audioChunkMs: options.audioChunkMs ?? 100,
    generationSpeed: options.generationSpeed ?? 4,
    sessionLimitMs: options.sessionLimitMs ?? DEFAULT_SESSION_LIMIT_MS,
    toolTriggers: options.toolTriggers ?? DEFAULT_TOOL_TRIGGERS,
    historyLimits: options.historyLimits ?? DEFAULT_HISTORY_LIMITS,
    now: preciseNowMs,
  };
}

export async function startNovaSimulator(options: SimulatorOptions = {}): Promise<NovaSimulator> {
  const log = (options.logger ?? new JsonLogger({})).child({ component: "nova-sim" });
  const faults = new FaultPlan();
  const sessions = new SessionRegistry(options.maxSessionRecords);
  const active = new Set<SimSession>();
  const streamDeps = {
    behaviour: behaviourFrom(options),
    modelIds: options.modelIds ?? KNOWN_MODEL_IDS,
    credentials: options.credentials,
    region: options.region,
    streamSetupMs: options.streamSetupMs ?? 0,
    faults,
    sessions,
    active,
    log,
  };
  const controlDeps = { faults, sessions, activeSessions: () => active.size };

  const onRequest = (req: AnyRequest, res: AnyResponse) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const bidi = BIDI_PATH.exec(path);
    try {
      if (bidi?.[1]) handleBidirectionalStream(req, res, decodeURIComponent(bidi[1]), streamDeps);
      else if (path.startsWith("/_sim/")) {
        handleControl(req, res, path, controlDeps).catch((error: unknown) => {
          log.warn("control route failed", { error: String(error) });
          sendHttpError(res, 500, "InternalServerException", "control route failed");
        });
      } else sendHttpError(res, 404, "UnknownOperationException", `no operation at ${path}`);
    } catch (error) {
      log.error("request failed", { error: String(error) });
      sendHttpError(res, 500, "InternalServerException", "The simulator failed to handle the request.");
    }
  };

  const h2 = options.tls
    ? http2.createSecureServer({ ...options.tls, allowHTTP1: true }, onRequest)
    : http2.createServer(onRequest);
  const sockets = new Set<net.Socket>();
  const setupMs = options.connectionSetupMs ?? 0;

  // Connections are accepted here and handed to the HTTP/2 server, after the set-up delay if any. Nothing
  // may be read from the socket first: the HTTP/2 session reads from the socket's handle itself.
  const front = net.createServer({ pauseOnConnect: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const handOver = () => {
      if (socket.destroyed) return;
      h2.emit("connection", socket);
      socket.resume();
    };
    if (setupMs > 0) setTimeout(handOver, setupMs);
    else handOver();
  });

  await new Promise<void>((resolve, reject) => {
    front.once("error", reject);
    front.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = front.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const host = options.host ?? "127.0.0.1";
  const url = `${options.tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`;
  log.info("listening", { url });

  return {
    url,
    port,
    faults,
    sessions,
    activeSessions: () => active.size,
    async close() {
      for (const session of active) session.dispose("simulator_closed");
      active.clear();
      await new Promise<void>((resolve) => {
        front.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      h2.close();
    },
  };
}

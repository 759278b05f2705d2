/**
 * The bridge under benchmark, alone in its own process (so that its CPU and memory are its own): started
 * with the configuration the parent sends, a Bedrock client whose HTTP/2 handler notes when each signed
 * audioInput frame is handed to the stream, and a probe for the bridge-side figures. Talks to the parent
 * over the IPC channel: "memory", "mark" (start of the measured window), "report", "stop".
 */
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { Transform } from "node:stream";
import { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";
import { NodeHttp2Handler } from "@smithy/node-http-handler";
import type { CallProbe } from "../../bridge/call.ts";
import { parseBridgeConfig } from "../../bridge/config.ts";
import { startBridge } from "../../bridge/main.ts";
import { Logger } from "../../shared/log.ts";

type HttpRequest = Parameters<NodeHttp2Handler["handle"]>[0];
type HandlerOptions = Parameters<NodeHttp2Handler["handle"]>[1];

const now = () => performance.timeOrigin + performance.now();

/** Each signed frame carries `{"bytes":"<base64 of the event JSON>"}`; the event JSON starts like this. */
const BYTES_FIELD = Buffer.from('{"bytes":"');
const AUDIO_INPUT_START = '{"event":{"audioInput":{"promptName":"';

/** The prompt name of a signed audioInput frame, or null for any other event. */
function audioInputPromptName(frame: Buffer): string | null {
  const at = frame.indexOf(BYTES_FIELD);
  if (at < 0) return null;
  const start = at + BYTES_FIELD.length;
  const head = Buffer.from(frame.toString("latin1", start, start + 120), "base64").toString("utf8");
  if (!head.startsWith(AUDIO_INPUT_START)) return null;
  return head.slice(AUDIO_INPUT_START.length, AUDIO_INPUT_START.length + 36);
}

/** Everything measured in this process. */
class Measurements {
  /** Per session (prompt name): arrival times of caller frames queued as audioInput, oldest first. */
  readonly pendingUplink = new Map<string, number[]>();
  readonly samples = {
    uplinkMs: [] as number[],
    uplinkQueueMs: [] as number[],
    downlinkMs: [] as number[],
    replyStartMs: [] as number[],
    lateTickMs: [] as number[],
  };
  readonly loopDelay = monitorEventLoopDelay({ resolution: 5 });
  readonly gcPauses: number[] = [];
  underruns = 0;
  callsEnded = 0;

  constructor() {
    this.loopDelay.enable();
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) this.gcPauses.push(entry.duration);
    }).observe({ entryTypes: ["gc"] });
  }

  reset(): void {
    for (const list of Object.values(this.samples)) list.length = 0;
    this.loopDelay.reset();
    this.gcPauses.length = 0;
  }

  probe(): CallProbe {
    return {
      uplink: (sessionKey, receivedMs, queuedMs) => {
        this.samples.uplinkQueueMs.push(queuedMs - receivedMs);
        const queue = this.pendingUplink.get(sessionKey);
        if (queue) queue.push(receivedMs);
        else this.pendingUplink.set(sessionKey, [receivedMs]);
      },
      downlink: (receivedMs, queuedMs, firstFrameSentMs) => {
        this.samples.downlinkMs.push(queuedMs - receivedMs);
        if (firstFrameSentMs !== null) this.samples.replyStartMs.push(firstFrameSentMs - receivedMs);
      },
      pacing: (latenessMs) => {
        this.samples.lateTickMs.push(latenessMs);
      },
      ended: (count) => {
        this.underruns += count;
        this.callsEnded++;
      },
    };
  }

  /** A signed audioInput frame for session `key` is being handed to the HTTP/2 stream now. */
  audioInputSent(key: string): void {
    const arrivedMs = this.pendingUplink.get(key)?.shift();
    if (arrivedMs !== undefined) this.samples.uplinkMs.push(now() - arrivedMs);
  }
}

/** Notes when each signed audioInput frame leaves for the HTTP/2 stream. */
class TimedHttp2Handler extends NodeHttp2Handler {
  readonly #measurements: Measurements;

  constructor(measurements: Measurements, options: ConstructorParameters<typeof NodeHttp2Handler>[0]) {
    super(options);
    this.#measurements = measurements;
  }

  override handle(request: HttpRequest, options?: HandlerOptions) {
    const measurements = this.#measurements;
    const body: unknown = request.body;
    if (body && typeof (body as NodeJS.ReadableStream).pipe === "function") {
      const timed = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          const key = audioInputPromptName(chunk);
          if (key !== null) measurements.audioInputSent(key);
          done(null, chunk);
        },
      });
      request.body = (body as NodeJS.ReadableStream).pipe(timed);
    }
    return super.handle(request, options);
  }
}

async function main(): Promise<void> {
  const env = JSON.parse(process.env.BENCH_BRIDGE_ENV ?? "{}") as Record<string, string>;
  const config = parseBridgeConfig(env);
  const m = new Measurements();
  const client = new BedrockRuntimeClient({
    region: config.region,
    endpoint: env.BENCH_SIM_URL ?? "",
    credentials: { accessKeyId: "AKIDBENCH", secretAccessKey: "bench-secret" },
    requestHandler: new TimedHttp2Handler(m, { requestTimeout: 120_000, sessionTimeout: 120_000 }),
  });
  const bridge = await startBridge(config, {
    client,
    probe: m.probe(),
    logger: new Logger({}, { level: "warn" }),
  });
  let cpuStart = process.cpuUsage();
  let wallStart = now();
  process.on("message", (message: { kind: string; t?: number }) => {
    if (message.kind === "memory") process.send?.({ kind: "memory", memory: process.memoryUsage() });
    else if (message.kind === "mark") {
      m.reset();
      cpuStart = process.cpuUsage();
      wallStart = now();
      process.send?.({ kind: "marked" });
    } else if (message.kind === "report") {
      const cpu = process.cpuUsage(cpuStart);
      process.send?.({
        kind: "report",
        cpuMicros: cpu.user + cpu.system,
        wallMs: now() - wallStart,
        memory: process.memoryUsage(),
        samples: m.samples,
        underruns: m.underruns,
        callsEnded: m.callsEnded,
        activeCalls: bridge.server.health().activeCalls,
        loopDelayMs: {
          p50: m.loopDelay.percentile(50) / 1e6,
          p99: m.loopDelay.percentile(99) / 1e6,
          max: m.loopDelay.max / 1e6,
        },
        gc: {
          count: m.gcPauses.length,
          totalMs: m.gcPauses.reduce((a, b) => a + b, 0),
          maxMs: Math.max(0, ...m.gcPauses),
        },
      });
    } else if (message.kind === "stop") {
      void bridge.close().then(() => process.exit(0));
    }
  });
  process.send?.({ kind: "ready", url: bridge.url });
}

void main();

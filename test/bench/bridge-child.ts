/**
 * The bridge under benchmark, alone in its own process (so that its CPU and memory are its own): started
 * with the configuration the parent sends, a Bedrock client whose HTTP/2 handler notes when each signed
 * audioInput frame is handed to the stream, and a probe for the bridge-side figures. Talks to the parent
 * over the IPC channel: "clock" (for offset calibration), "mark" (start of the measured window), "report".
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

/** Per session (prompt name): arrival times of caller frames queued as audioInput, oldest first. */
const pendingUplink = new Map<string, number[]>();
const samples = {
  uplinkMs: [] as number[],
  uplinkQueueMs: [] as number[],
  downlinkMs: [] as number[],
  replyStartMs: [] as number[],
  lateTickMs: [] as number[],
};
let underruns = 0;
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
const gcPauses: number[] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcPauses.push(entry.duration);
}).observe({ entryTypes: ["gc"] });
let callsEnded = 0;

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

/** Notes when each signed audioInput frame leaves for the HTTP/2 stream. */
class TimedHttp2Handler extends NodeHttp2Handler {
  override handle(request: HttpRequest, options?: HandlerOptions) {
    const body: unknown = request.body;
    if (body && typeof (body as NodeJS.ReadableStream).pipe === "function") {
      const timed = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          const key = audioInputPromptName(chunk);
          if (key !== null) {
            const arrivedMs = pendingUplink.get(key)?.shift();
            if (arrivedMs !== undefined) samples.uplinkMs.push(now() - arrivedMs);
          }
          done(null, chunk);
        },
      });
      request.body = (body as NodeJS.ReadableStream).pipe(timed);
    }
    return super.handle(request, options);
  }
}

const probe: CallProbe = {
  uplink(sessionKey, receivedMs, queuedMs) {
    samples.uplinkQueueMs.push(queuedMs - receivedMs);
    const queue = pendingUplink.get(sessionKey);
    if (queue) queue.push(receivedMs);
    else pendingUplink.set(sessionKey, [receivedMs]);
  },
  downlink(receivedMs, queuedMs, firstFrameSentMs) {
    samples.downlinkMs.push(queuedMs - receivedMs);
    if (firstFrameSentMs !== null) samples.replyStartMs.push(firstFrameSentMs - receivedMs);
  },
  pacing(latenessMs) {
    samples.lateTickMs.push(latenessMs);
  },
  ended(count) {
    underruns += count;
    callsEnded++;
  },
};

async function main(): Promise<void> {
  const env = JSON.parse(process.env.BENCH_BRIDGE_ENV ?? "{}") as Record<string, string>;
  const config = parseBridgeConfig(env);
  const client = new BedrockRuntimeClient({
    region: config.region,
    endpoint: env.BENCH_SIM_URL ?? "",
    credentials: { accessKeyId: "AKIDBENCH", secretAccessKey: "bench-secret" },
    requestHandler: new TimedHttp2Handler({ requestTimeout: 120_000, sessionTimeout: 120_000 }),
  });
  const bridge = await startBridge(config, { client, probe, logger: new Logger({}, { level: "warn" }) });
  let cpuStart = process.cpuUsage();
  let wallStart = now();
  process.on("message", (message: { kind: string; t?: number }) => {
    if (message.kind === "clock") process.send?.({ kind: "clock", t: now() });
    else if (message.kind === "memory") process.send?.({ kind: "memory", memory: process.memoryUsage() });
    else if (message.kind === "mark") {
      for (const list of Object.values(samples)) list.length = 0;
      loopDelay.reset();
      gcPauses.length = 0;
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
        samples,
        underruns,
        callsEnded,
        activeCalls: bridge.server.health().activeCalls,
        loopDelayMs: {
          p50: loopDelay.percentile(50) / 1e6,
          p99: loopDelay.percentile(99) / 1e6,
          max: loopDelay.max / 1e6,
        },
        gc: {
          count: gcPauses.length,
          totalMs: gcPauses.reduce((a, b) => a + b, 0),
          maxMs: Math.max(0, ...gcPauses),
        },
      });
    } else if (message.kind === "stop") {
      void bridge.close().then(() => process.exit(0));
    }
  });
  process.send?.({ kind: "ready", url: bridge.url });
}

void main();

/**
 * The bridge under benchmark, alone in its own process (so that its CPU and memory are its own): started
 * with the configuration the parent sends, the product's Bedrock client with a hook of its event signer that
 * notes when each signed audioInput frame is handed to the stream, and a probe for the bridge-side figures. Talks to the parent
 * over the IPC channel: "memory", "mark" (start of the measured window), "report", "stop".
 */
import { writeHeapSnapshot } from "node:v8";
import type { CallProbe } from "../../bridge/call.ts";
import { parseBridgeConfig } from "../../bridge/config.ts";
import { startBridge } from "../../bridge/main.ts";
import { createNovaClient } from "../../bridge/nova/client.ts";
import { Logger } from "../../shared/log.ts";

const now = () => performance.timeOrigin + performance.now();

/** Each signed frame carries `{"bytes":"<base64 of the event JSON>"}`; an audioInput's JSON starts like this. */
const BYTES_FIELD = Buffer.from('{"bytes":"');
const AUDIO_INPUT_START = '{"event":{"audioInput":{"promptName":"';
/** Whole base64 groups (4 characters per 3 bytes) of the start and the 36-character prompt name. */
const PREFIX_BYTES = Math.floor((AUDIO_INPUT_START.length + 36) / 3) * 3;
const PREFIX_CHARS = (PREFIX_BYTES / 3) * 4;

/**
 * The base64 form of each session's audioInput start, so that a signed frame is matched to its session by
 * comparing base64 text (no decoding per frame: this hook's CPU counts as the bridge's).
 */
class AudioInputMatcher {
  readonly #sessionByPrefix = new Map<string, string>();
  #lastFieldAt = 0;

  add(promptName: string): void {
    const start = Buffer.from(AUDIO_INPUT_START + promptName);
    if (start.length < PREFIX_BYTES) return;
    this.#sessionByPrefix.set(start.subarray(0, PREFIX_BYTES).toString("base64"), promptName);
  }

  /** The prompt name of a signed audioInput frame of a known session, or null for any other frame. */
  sessionOf(frame: Buffer): string | null {
    // Chunk events put the field at the same offset: look there first, search only on a miss.
    let at = this.#lastFieldAt;
    if (frame.compare(BYTES_FIELD, 0, BYTES_FIELD.length, at, at + BYTES_FIELD.length) !== 0) {
      at = frame.indexOf(BYTES_FIELD);
      if (at < 0) return null;
      this.#lastFieldAt = at;
    }
    const start = at + BYTES_FIELD.length;
    return this.#sessionByPrefix.get(frame.toString("latin1", start, start + PREFIX_CHARS)) ?? null;
  }
}

/** Everything measured in this process. */
class Measurements {
  /** Per session (prompt name): arrival times of caller frames queued as audioInput, oldest first. */
  readonly pendingUplink = new Map<string, number[]>();
  readonly audioInputs = new AudioInputMatcher();
  readonly samples = {
    uplinkMs: [] as number[],
    uplinkQueueMs: [] as number[],
    downlinkMs: [] as number[],
    replyStartMs: [] as number[],
    lateTickMs: [] as number[],
  };
  underruns = 0;
  callsEnded = 0;

  reset(): void {
    for (const list of Object.values(this.samples)) list.length = 0;
  }

  probe(): CallProbe {
    return {
      uplink: (sessionKey, receivedMs, queuedMs) => {
        this.samples.uplinkQueueMs.push(queuedMs - receivedMs);
        const queue = this.pendingUplink.get(sessionKey);
        if (queue) queue.push(receivedMs);
        else {
          this.pendingUplink.set(sessionKey, [receivedMs]);
          this.audioInputs.add(sessionKey);
        }
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

/**
 * Memory once garbage is gone (the parent starts this process with --expose-gc): what is held, without the
 * garbage that happens to be uncollected at the moment of reading. Only read after the CPU reading (a
 * forced GC before the calls would change how V8 sizes the heap, and with it the GC work being measured).
 */
function memoryAfterFullGc(): NodeJS.MemoryUsage | null {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return null;
  gc();
  return process.memoryUsage();
}

async function main(): Promise<void> {
  const env = JSON.parse(process.env.BENCH_BRIDGE_ENV ?? "{}") as Record<string, string>;
  const config = parseBridgeConfig(env);
  const m = new Measurements();
  // The product's client (createNovaClient): our event signer, whose hook notes each signed audioInput as it
  // is handed to the HTTP/2 stream. BENCH_EVENT_SIGNING=sdk encodes and signs input events with the SDK's
  // own marshaller and handler instead (a before/after comparison of CPU; the full uplink is then not timed).
  const onSigned = (envelope: Uint8Array) => {
    const key = m.audioInputs.sessionOf(Buffer.from(envelope.buffer, envelope.byteOffset, envelope.length));
    if (key !== null) m.audioInputSent(key);
  };
  const client = createNovaClient({
    region: config.region,
    endpoint: env.BENCH_SIM_URL ?? "",
    credentials: { accessKeyId: "AKIDBENCH", secretAccessKey: "bench-secret" },
    requestTimeoutMs: 120_000,
    sessionTimeoutMs: 120_000,
    eventSigning: env.BENCH_EVENT_SIGNING === "sdk" ? "sdk" : { onSigned },
    eventSerde: env.BENCH_EVENT_SIGNING === "sdk" ? "sdk" : "ours",
  });
  const bridge = await startBridge(config, {
    client,
    probe: m.probe(),
    logger: new Logger({}, { level: "warn" }),
  });
  let cpuStart = process.cpuUsage();
  let wallStart = now();
  // RSS once a second over the measured window: one reading at the end lands anywhere in the young
  // generation's fill-and-empty cycle (up to 3 × 16 MB here), the window's median does not.
  const rssSamples: number[] = [];
  let rssTimer: NodeJS.Timeout | undefined;
  process.on("message", (message: { kind: string; t?: number }) => {
    if (message.kind === "memory") process.send?.({ kind: "memory", memory: process.memoryUsage() });
    else if (message.kind === "mark") {
      m.reset();
      bridge.eventLoop.reset();
      cpuStart = process.cpuUsage();
      wallStart = now();
      rssSamples.length = 0;
      clearInterval(rssTimer);
      rssTimer = setInterval(() => rssSamples.push(process.memoryUsage.rss()), 1000);
      process.send?.({ kind: "marked" });
    } else if (message.kind === "report") {
      const cpu = process.cpuUsage(cpuStart);
      clearInterval(rssTimer);
      const memory = process.memoryUsage();
      const memoryAfterGc = memoryAfterFullGc();
      // BENCH_HEAP_SNAPSHOT=dir: what the calls hold, for a heap viewer (taken after the CPU and memory readings).
      if (process.env.BENCH_HEAP_SNAPSHOT && bridge.server.health().activeCalls > 0) {
        writeHeapSnapshot(`${process.env.BENCH_HEAP_SNAPSHOT}/bridge-${Date.now()}.heapsnapshot`);
      }
      process.send?.({
        kind: "report",
        cpuMicros: cpu.user + cpu.system,
        wallMs: now() - wallStart,
        memory,
        memoryAfterGc,
        samples: m.samples,
        rssSamples,
        underruns: m.underruns,
        callsEnded: m.callsEnded,
        activeCalls: bridge.server.health().activeCalls,
        eventLoop: bridge.eventLoop.snapshot(),
      });
    } else if (message.kind === "stop") {
      void bridge.close().then(() => process.exit(0));
    }
  });
  process.send?.({ kind: "ready", url: bridge.url });
}

void main();

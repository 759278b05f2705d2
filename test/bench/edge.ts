/**
 * Edge benchmark: N concurrent Twilio-shaped calls (a 20 ms media frame each, every 20 ms) through local
 * workerd (the bundled edge Worker in Miniflare) and each call's Durable Object to a Node echo bridge,
 * against the same calls connected straight to the same echo bridge, in the same run. Prints, on both
 * paths, each frame's time one way (caller → bridge, bridge → caller: the echo bridge stamps when a frame
 * arrived and when its echo left, on CLOCK_MONOTONIC, which every process on the machine shares) and its
 * round trip (p50/p99), the differences (what the edge adds) and workerd's CPU per call (from /proc).
 * Figures only, no assertions.
 *
 *   npm run bench:edge -- [--calls 50] [--seconds 10] [--warmup 2] [--via direct|entry] [--cpus split|any]
 *
 * CPU placement (`--cpus`): `split` (the default) pins workerd to CPU 1, and the load generator and the echo
 * bridge (the stand-ins for Twilio and the bridge, which in production run on other machines) to CPU 0, in
 * both phases, with `taskset`; `any` leaves placement to the scheduler. On this 2-core VM the scheduler's
 * placement of three processes moves the edge's added p50 between about 0.4 and 0.7 ms from run to run.
 *
 * The echo bridge (test/edge/fake-bridge.ts) runs in a child process so that it does not share an event
 * loop with the load generator.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import twilio from "twilio";
import WebSocket from "ws";
import {
  BRIDGE_PROTOCOL_HEADER,
  BRIDGE_PROTOCOL_VERSION,
  bridgeMediaPath,
} from "../../shared/bridge-protocol.ts";
import { signToken } from "../../shared/signed-token.ts";
import { buildConnected, buildInboundMedia, buildStart } from "../../shared/twilio-media.ts";
import { startFakeBridge } from "../edge/fake-bridge.ts";
import { bundleEdge } from "../stack/edge-bundle.ts";
import { type EdgeMiniflare, type EdgeRoute, startEdgeMiniflare } from "../stack/edge-miniflare.ts";
import { freePort } from "../stack/local-stack.ts";
import { WORKERD_V8_FLAGS_VARIABLE, workerdV8FlagsValue } from "../stack/workerd-v8-flags.ts";

const SECRET = "bench-bridge-secret-0123456789abcdef-0001";
const AUTH_TOKEN = "bench-twilio-auth-token-0001";
const FRAME_MS = 20;

// ---- the echo bridge (child process role) ------------------------------------------------------------

async function runEchoBridge(): Promise<void> {
  const bridge = await startFakeBridge({ id: "echo", region: "bench", secret: SECRET, stampEcho: true });
  process.stdout.write(`${JSON.stringify({ port: bridge.port })}\n`);
  // The parent's IPC channel closes when it exits, however it exits.
  process.on("disconnect", () => void bridge.close().then(() => process.exit(0)));
}

function startEchoBridge(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [new URL(import.meta.url).pathname, "--role", "echo-bridge"], {
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`echo bridge exited (${code})`)));
    child.stdout?.once("data", (data: Buffer) => {
      const { port } = JSON.parse(data.toString()) as { port: number };
      resolve({ child, url: `http://127.0.0.1:${port}` });
    });
  });
}

// ---- the edge in workerd --------------------------------------------------------------------------

async function startEdge(bridgeUrl: string, route: EdgeRoute): Promise<EdgeMiniflare> {
  const port = await freePort();
  const bundle = await bundleEdge(mkdtempSync(join(tmpdir(), "edge-bench-")));
  return startEdgeMiniflare({
    bundle,
    host: "127.0.0.1",
    port,
    route,
    vars: {
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      ADMIN_TOKEN: "bench-admin-token-000001",
      BRIDGE_SECRET: SECRET,
      BRIDGES: JSON.stringify([{ id: "echo", url: bridgeUrl, region: "bench" }]),
      BRIDGE_REGION: "bench",
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "error",
    },
    onWorkerLog: (level, message) =>
      (level === "warn" || level === "error" ? console.error : console.log)(message),
  });
}

/** workerd processes started by this process (Miniflare spawns one). */
function workerdPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (comm.startsWith("workerd") && ppid === process.pid) pids.push(Number(entry));
    } catch {
      // The process went away while we looked.
    }
  }
  return pids;
}

/** CPU time (user + system) of `pids`, in ms. */
function cpuMs(pids: number[]): number {
  const ticksPerSecond = 100; // USER_HZ on Linux
  let ticks = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1000) / ticksPerSecond;
}

/** Pins every thread of `pid` to `cpu` with taskset; the reason it could not, or null. */
function pin(pid: number, cpu: number): string | null {
  const result = spawnSync("taskset", ["--all-tasks", "--pid", "--cpu-list", String(cpu), String(pid)], {
    encoding: "utf8",
  });
  if (result.error) return `taskset: ${result.error.message}`;
  return result.status === 0 ? null : `taskset exited ${result.status}: ${result.stderr.trim()}`;
}

/** `split`: workerd on CPU 1, everything else of the bench on CPU 0. Returns what was done, for the report. */
function placeProcesses(placement: string, workerd: number[], others: number[]): string {
  if (placement === "any") return "CPU placement left to the scheduler (--cpus any)";
  if (placement !== "split") throw new Error(`--cpus must be split or any, not ${placement}`);
  if (availableParallelism() < 2) return "CPU placement left to the scheduler (fewer than 2 CPUs)";
  const problems = [...workerd.map((pid) => pin(pid, 1)), ...others.map((pid) => pin(pid, 0))].filter(
    (problem) => problem !== null,
  );
  if (problems.length > 0) return `CPU placement left to the scheduler (${problems[0]})`;
  return "workerd pinned to CPU 1; the load generator and the echo bridge to CPU 0 (--cpus split)";
}

// ---- one simulated call ---------------------------------------------------------------------------

function hex(bytes: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("hex");
}

/** Per frame, in ms: caller → bridge, bridge → caller (the echo), and the whole round trip. */
interface FrameTimes {
  uplinkMs: number[];
  downlinkMs: number[];
  roundTripMs: number[];
}

interface CallRun {
  socket: WebSocket;
  times: FrameTimes;
  stop(): void;
}

/** `process.hrtime` (CLOCK_MONOTONIC, the same clock in the echo bridge's process), in ms. */
const nsToMs = (ns: bigint) => Number(ns) / 1e6;

/**
 * Sends connected + start, then a media frame every 20 ms stamped with when it left; the echo bridge adds
 * when it arrived and when the echo left, so each direction is timed on its own.
 */
function runCall(
  socket: WebSocket,
  callSid: string,
  token: string,
  offsetMs: number,
  measureFromMs: number,
): CallRun {
  const streamSid = `MZ${hex(16)}`;
  const times: FrameTimes = { uplinkMs: [], downlinkMs: [], roundTripMs: [] };
  const measureFromNs =
    process.hrtime.bigint() + BigInt(Math.round((measureFromMs - performance.now()) * 1e6));
  let sequence = 0;
  let timer: NodeJS.Timeout | undefined;
  socket.on("message", (data) => {
    const receivedNs = process.hrtime.bigint();
    const text = data.toString();
    if (!text.startsWith('{"event":"media"')) return;
    const bytes = Buffer.from((JSON.parse(text) as { media: { payload: string } }).media.payload, "base64");
    const sentNs = bytes.readBigUInt64BE(8);
    if (sentNs < measureFromNs) return;
    times.uplinkMs.push(nsToMs(bytes.readBigUInt64BE(16) - sentNs));
    times.downlinkMs.push(nsToMs(receivedNs - bytes.readBigUInt64BE(24)));
    times.roundTripMs.push(nsToMs(receivedNs - sentNs));
  });
  socket.send(buildConnected());
  socket.send(
    buildStart({
      sequenceNumber: 1,
      streamSid,
      accountSid: `AC${"0".repeat(32)}`,
      callSid,
      customParameters: { token },
    }),
  );
  const payload = Buffer.alloc(160, 0xff);
  const sendFrame = () => {
    sequence++;
    payload.writeUInt32BE(sequence, 0);
    payload.write(callSid.slice(2, 10), 4, "hex");
    payload.writeBigUInt64BE(process.hrtime.bigint(), 8);
    socket.send(
      buildInboundMedia({
        sequenceNumber: sequence + 1,
        streamSid,
        chunk: sequence,
        timestampMs: sequence * FRAME_MS,
        payloadBase64: payload.toString("base64"),
      }),
    );
  };
  const starter = setTimeout(() => {
    timer = setInterval(sendFrame, FRAME_MS);
  }, offsetMs);
  return {
    socket,
    times,
    stop: () => {
      clearTimeout(starter);
      clearInterval(timer);
      socket.close(1000, "bench done");
    },
  };
}

function open(url: string, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers, perMessageDeflate: false });
    socket.once("open", () => resolve(socket));
    socket.once("error", reject);
  });
}

async function directCall(bridgeUrl: string, offsetMs: number, measureFromMs: number): Promise<CallRun> {
  const callSid = `CA${hex(16)}`;
  const bridgeToken = await signToken(SECRET, {
    purpose: "bridge",
    subject: callSid,
    expiresAtMs: Date.now() + 600_000,
  });
  const socket = await open(`${bridgeUrl.replace("http", "ws")}${bridgeMediaPath(callSid)}`, {
    Authorization: `Bearer ${bridgeToken}`,
    [BRIDGE_PROTOCOL_HEADER]: String(BRIDGE_PROTOCOL_VERSION),
  });
  return runCall(socket, callSid, "", offsetMs, measureFromMs);
}

async function edgeCall(origin: string, offsetMs: number, measureFromMs: number): Promise<CallRun> {
  const callSid = `CA${hex(16)}`;
  const params = {
    AccountSid: `AC${"0".repeat(32)}`,
    CallSid: callSid,
    From: "+14155550100",
    To: "+18005550100",
  };
  const response = await fetch(`${origin}/voice`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "X-Twilio-Signature": twilio.getExpectedTwilioSignature(AUTH_TOKEN, `${origin}/voice`, params),
    },
    body: new URLSearchParams(params).toString(),
  });
  const twiml = await response.text();
  const token = /<Parameter name="token" value="([^"]+)"\/>/.exec(twiml)?.[1];
  const streamUrl = /<Stream url="([^"]+)"/.exec(twiml)?.[1];
  if (!token || !streamUrl) throw new Error(`no stream in TwiML: ${twiml}`);
  const socket = await open(streamUrl, {
    "X-Twilio-Signature": twilio.getExpectedTwilioSignature(AUTH_TOKEN, streamUrl, {}),
  });
  return runCall(socket, callSid, token, offsetMs, measureFromMs);
}

// ---- phases and report ---------------------------------------------------------------------------

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

interface Spread {
  p50: number;
  p99: number;
  max: number;
}

interface PhaseResult {
  frames: number;
  expected: number;
  uplink: Spread;
  downlink: Spread;
  roundTrip: Spread;
  cpuMs: number | null;
}

function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN };
}

async function phase(
  calls: number,
  seconds: number,
  warmupSeconds: number,
  start: (offsetMs: number, measureFromMs: number) => Promise<CallRun>,
  cpuPids: number[],
): Promise<PhaseResult> {
  const measureFromMs = performance.now() + warmupSeconds * 1000;
  const runs = await Promise.all(
    Array.from({ length: calls }, (_, i) => start((i * FRAME_MS) / calls, measureFromMs)),
  );
  await sleep(measureFromMs - performance.now());
  const cpuBefore = cpuPids.length > 0 ? cpuMs(cpuPids) : null;
  await sleep(seconds * 1000);
  const cpuAfter = cpuPids.length > 0 ? cpuMs(cpuPids) : null;
  for (const run of runs) run.stop();
  await sleep(200);
  const all = (key: keyof FrameTimes) => runs.flatMap((run) => run.times[key]);
  return {
    frames: all("roundTripMs").length,
    expected: Math.round((calls * seconds * 1000) / FRAME_MS),
    uplink: spread(all("uplinkMs")),
    downlink: spread(all("downlinkMs")),
    roundTrip: spread(all("roundTripMs")),
    cpuMs: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const ms = (value: number) => `${value.toFixed(2)} ms`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: "string" },
      calls: { type: "string", default: "50" },
      seconds: { type: "string", default: "10" },
      warmup: { type: "string", default: "2" },
      via: { type: "string", default: "direct" },
      cpus: { type: "string", default: "split" },
    },
  });
  if (values.role === "echo-bridge") return runEchoBridge();
  const calls = Number(values.calls);
  const seconds = Number(values.seconds);
  const warmup = Number(values.warmup);
  const route: EdgeRoute = values.via === "entry" ? "entry" : "direct";

  // The local workerd's V8 flags, as the local stack sets them (test/stack/workerd-v8-flags.ts).
  process.env[WORKERD_V8_FLAGS_VARIABLE] = workerdV8FlagsValue(process.env);
  const bridge = await startEchoBridge();
  const edge = await startEdge(bridge.url, route).catch((error: unknown) => {
    bridge.child.disconnect();
    throw error;
  });
  try {
    const pids = workerdPids();
    console.log(
      `edge bench: ${calls} calls, a frame every ${FRAME_MS} ms, ${warmup} s warm-up + ${seconds} s measured`,
    );
    console.log(`workerd pid(s): ${pids.join(", ") || "not found"}; echo bridge: ${bridge.url}`);
    const others = [process.pid, ...(bridge.child.pid === undefined ? [] : [bridge.child.pid])];
    console.log(placeProcesses(values.cpus, pids, others));
    const direct = await phase(
      calls,
      seconds,
      warmup,
      (offset, from) => directCall(bridge.url, offset, from),
      [],
    );
    const viaEdge = await phase(
      calls,
      seconds,
      warmup,
      (offset, from) => edgeCall(edge.origin, offset, from),
      pids,
    );
    console.log("");
    console.log(
      "path        frames (expected)   caller → bridge p50 / p99    bridge → caller p50 / p99    round trip p50 / p99",
    );
    const pair = (value: Spread) => `${ms(value.p50)} / ${ms(value.p99)}`.padEnd(29);
    for (const [name, r] of [
      ["direct", direct],
      ["via edge", viaEdge],
    ] as const) {
      console.log(
        `${name.padEnd(11)} ${`${r.frames} (${r.expected})`.padEnd(19)} ${pair(r.uplink)}${pair(r.downlink)}${pair(r.roundTrip)}`,
      );
    }
    const added = (key: "uplink" | "downlink" | "roundTrip") =>
      `p50 ${ms(viaEdge[key].p50 - direct[key].p50)}, p99 ${ms(viaEdge[key].p99 - direct[key].p99)}`;
    console.log(`added by the edge per frame, caller → bridge: ${added("uplink")} (target ≤ 0.5 / ≤ 3 ms)`);
    console.log(`added by the edge per frame, bridge → caller: ${added("downlink")} (target ≤ 0.5 / ≤ 3 ms)`);
    console.log(`added to a round trip (the frame crosses the edge twice): ${added("roundTrip")}`);
    if (viaEdge.cpuMs !== null) {
      const perCallSecond = viaEdge.cpuMs / calls / seconds;
      console.log(
        `workerd CPU: ${ms(viaEdge.cpuMs / seconds)} per second for ${calls} calls = ${ms(perCallSecond)} per call-second (${(perCallSecond / 10).toFixed(2)} % of a core per call)`,
      );
    }
  } finally {
    await edge.mf.dispose();
    bridge.child.disconnect();
  }
}

await main();

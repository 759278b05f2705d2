/**
 * `npm run bench:fast-paths [-- --calls 20 --setup-ms 150 --latency-ms 300/600 --gap-ms 600]`
 *
 * What the warm pool and the prompt cache buy, each on and off. The Nova Sonic simulator charges a
 * connection set-up time (TCP+TLS to a region, --setup-ms) and a model latency; a bridge runs in this
 * process with the mode's configuration (POOL_MAX/POOL_MIN, PROMPTS with the greeting rendered once
 * through the simulator into a temporary PROMPT_CACHE_DIR); calls come one at a time, --gap-ms apart
 * (the pool refills in between), each hanging up once the greeting's first audio has arrived.
 * Printed per mode (no assertions):
 *   greeting @phone    Twilio `start` sent by the phone → first greeting audio frame received by it
 *   greeting @bridge   `start` received by the bridge → first greeting frame sent (turn timings)
 *   session ready      `start` received → model session accepted by the service (HTTP 200), by source
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseBridgeConfig } from "../../bridge/config.ts";
import { startBridge } from "../../bridge/main.ts";
import { createNovaClient } from "../../bridge/nova/client.ts";
import { startNovaSimulator } from "../../bridge/simulator/server.ts";
import { Logger } from "../../shared/log.ts";
import { BridgePhone } from "../bridge-phone.ts";
import { summarise } from "./percentiles.ts";

const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "20" },
    "setup-ms": { type: "string", default: "150" },
    "latency-ms": { type: "string", default: "300/600" },
    "gap-ms": { type: "string", default: "600" },
  },
});
const CALLS = Number(values.calls);
const SETUP_MS = Number(values["setup-ms"]);
const GAP_MS = Number(values["gap-ms"]);
const [MEDIAN_MS = 300, P95_MS = 600] = (values["latency-ms"] ?? "300/600").split("/").map(Number);
const SECRET = "fast-path-bench-secret-0123456789";
const CREDENTIALS = { accessKeyId: "AKIDFASTPATHS", secretAccessKey: "fast-path-bench-secret" };
const REGION = "us-east-1";

interface Mode {
  name: string;
  env: Record<string, string>;
}

const cacheDir = mkdtempSync(join(tmpdir(), "fast-path-prompts-"));
const MODES: Mode[] = [
  { name: "pool off, cache off", env: {} },
  { name: "pool on,  cache off", env: { POOL_MAX: "4", POOL_MIN: "1" } },
  { name: "pool off, cache on ", env: { PROMPTS: "greeting", PROMPT_CACHE_DIR: cacheDir } },
  {
    name: "pool on,  cache on ",
    env: { POOL_MAX: "4", POOL_MIN: "1", PROMPTS: "greeting", PROMPT_CACHE_DIR: cacheDir },
  },
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nowMs = () => performance.timeOrigin + performance.now();
const fmt = (value: number) => (Number.isFinite(value) ? value.toFixed(1).padStart(7) : "      -");

interface Row {
  mode: string;
  greetingPhone: number[];
  greetingBridge: number[];
  greetingSource: Record<string, number>;
  ready: Record<string, number[]>;
}

async function runMode(mode: Mode): Promise<Row> {
  const simulator = await startNovaSimulator({
    credentials: CREDENTIALS,
    region: REGION,
    connectionSetupMs: SETUP_MS,
    modelLatency: { medianMs: MEDIAN_MS, p95Ms: P95_MS },
    seed: 1,
    logger: new Logger({}, { level: "error" }),
  });
  const lines: Array<Record<string, unknown>> = [];
  const logger = new Logger(
    {},
    { level: "info", sink: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const client = createNovaClient({ region: REGION, endpoint: simulator.url, credentials: CREDENTIALS });
  const config = parseBridgeConfig({
    BRIDGE_SECRET: SECRET,
    BRIDGE_REGION: REGION,
    BRIDGE_HOST: "127.0.0.1",
    BRIDGE_PORT: "0",
    NOVA_ENDPOINTING: "HIGH",
    ...mode.env,
  });
  const bridge = await startBridge(config, { client, logger });
  await bridge.fastPaths.promptsRendered();
  await sleep(Math.max(500, SETUP_MS * 3)); // the pool fills
  const row: Row = { mode: mode.name, greetingPhone: [], greetingBridge: [], greetingSource: {}, ready: {} };
  for (let i = 0; i < CALLS; i++) {
    let firstAudioMs: number | null = null;
    const phone = await BridgePhone.connect({
      baseUrl: bridge.url,
      secret: SECRET,
      onMedia: (_bytes, receivedMs) => {
        firstAudioMs ??= receivedMs;
      },
    });
    const startedMs = nowMs();
    phone.start();
    await phone.waitFor(() => firstAudioMs !== null, 15_000, "the greeting's first audio");
    row.greetingPhone.push((firstAudioMs ?? Number.NaN) - startedMs);
    await phone.waitFor(
      () => lines.some((l) => l.callSid === phone.callSid && l.msg === "model session ready"),
      10_000,
      "the session",
    );
    await phone.hangUp();
    for (const line of lines.filter((l) => l.callSid === phone.callSid)) {
      if (line.msg === "greeting first audio") {
        row.greetingBridge.push(Number(line.afterStartMs));
        const source = String(line.source);
        row.greetingSource[source] = (row.greetingSource[source] ?? 0) + 1;
      } else if (line.msg === "model session ready") {
        const source = String(line.source);
        const samples = row.ready[source] ?? [];
        samples.push(Number(line.readyAfterMs));
        row.ready[source] = samples;
      }
    }
    await sleep(GAP_MS);
  }
  await bridge.close();
  client.destroy();
  await simulator.close();
  return row;
}

async function main(): Promise<void> {
  console.log(
    `fast paths: ${CALLS} calls per mode, one at a time ${GAP_MS} ms apart; simulator connection set-up ${SETUP_MS} ms, model latency ${MEDIAN_MS}/${P95_MS} ms (median/p95)`,
  );
  const rows: Row[] = [];
  for (const mode of MODES) rows.push(await runMode(mode));
  console.log("\ntimes in ms, p50 / p95 / max");
  console.log(
    "mode                 | greeting @phone           | greeting @bridge          | session ready (source: p50 / p95)",
  );
  for (const row of rows) {
    const phone = summarise(row.greetingPhone);
    const bridge = summarise(row.greetingBridge);
    const ready = Object.entries(row.ready)
      .map(([source, samples]) => {
        const s = summarise(samples);
        return `${source} ×${s.count}: ${fmt(s.p50).trim()} / ${fmt(s.p95).trim()}`;
      })
      .join(", ");
    const sources = Object.entries(row.greetingSource)
      .map(([source, count]) => `${source}×${count}`)
      .join(" ");
    console.log(
      `${row.mode} | ${fmt(phone.p50)} ${fmt(phone.p95)} ${fmt(phone.max)} | ${fmt(bridge.p50)} ${fmt(bridge.p95)} ${fmt(bridge.max)} | ${ready}  [greeting: ${sources}]`,
    );
  }
  rmSync(cacheDir, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

/**
 * The container's health probe (Dockerfile HEALTHCHECK, ECS healthCheck): `node healthcheck.mjs` asks
 * the bridge in the same container for GET /healthz and exits 0 when it answers 200 with status "ok",
 * 1 otherwise (not listening, draining, wrong answer). The slim Node image has no curl, and resolving
 * the port with the bridge's own config parser means the probe and the server never disagree.
 */
import { readFileSync } from "node:fs";
import { describeError } from "../../shared/errors.ts";
import { type BridgeConfig, parseBridgeConfig } from "../config.ts";

export const HEALTH_PROBE_TIMEOUT_MS = 3000;

export type HealthVerdict = { healthy: true; summary: string } | { healthy: false; reason: string };

/** Where the probe knocks: the bridge's port on loopback when it listens on every interface. */
export function healthProbeUrl(config: Pick<BridgeConfig, "host" | "port">): string {
  if (config.port === 0) throw new Error("BRIDGE_PORT is 0 (any free port): the probe cannot know it");
  const anyHost = config.host === "0.0.0.0" || config.host === "::" || config.host === "";
  const host = anyHost ? "127.0.0.1" : config.host.includes(":") ? `[${config.host}]` : config.host;
  return `http://${host}:${config.port}/healthz`;
}

/** Judges one /healthz answer (BridgeHealth: status "ok" | "draining"). */
export function judgeHealth(httpStatus: number, body: unknown): HealthVerdict {
  if (typeof body !== "object" || body === null)
    return { healthy: false, reason: `HTTP ${httpStatus}, no JSON` };
  const status = "status" in body ? body.status : undefined;
  if (httpStatus !== 200 || status !== "ok") {
    return { healthy: false, reason: `HTTP ${httpStatus}, status ${JSON.stringify(status ?? null)}` };
  }
  const active = "activeCalls" in body ? body.activeCalls : "?";
  const max = "maxCalls" in body ? body.maxCalls : "?";
  return { healthy: true, summary: `ok, ${String(active)}/${String(max)} calls` };
}

async function probe(): Promise<HealthVerdict> {
  let url: string;
  try {
    url = healthProbeUrl(parseBridgeConfig(process.env, (path) => readFileSync(path, "utf8")));
  } catch (error) {
    return { healthy: false, reason: describeError(error) };
  }
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(HEALTH_PROBE_TIMEOUT_MS) });
    const text = await response.text();
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {}
    return judgeHealth(response.status, body);
  } catch (error) {
    return { healthy: false, reason: `${url}: ${describeError(error)}` };
  }
}

if (import.meta.main) {
  const verdict = await probe();
  if (verdict.healthy) console.log(`healthy: ${verdict.summary}`);
  else console.error(`unhealthy: ${verdict.reason}`);
  process.exit(verdict.healthy ? 0 : 1);
}

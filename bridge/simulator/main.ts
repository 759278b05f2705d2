/**
 * `npm run sim`: the local Nova Sonic endpoint as a process. Point the bridge at it with
 * AWS_ENDPOINT_URL_BEDROCK_RUNTIME=<printed url>. Configuration (all optional):
 *
 *   SIM_HOST (127.0.0.1), SIM_PORT (8788; 0 = any free port)
 *   SIM_CREDENTIALS      "ACCESS_KEY_ID:SECRET" to verify SigV4 signatures (unset: not checked)
 *   SIM_REGION           region the signatures must be scoped to (unset: any)
 *   SIM_LATENCY_MS       model latency "median/p95" in ms (350/700)
 *   SIM_CONNECTION_SETUP_MS  delay per new connection, TCP+TLS to a region (0)
 *   SIM_SESSION_LIMIT_MS (480000), SIM_SEED (random), SIM_GENERATION_SPEED (4)
 *   SIM_PAUSE_MS         turn-end pause for every sensitivity (unset: 1500/1750/2000 by sensitivity)
 *   SIM_UTTERANCES       fixture manifest of known caller utterances
 *   SIM_BARGE_IN_DETECTION_MS  extra caller speech before the model declares an interruption (0)
 *   SIM_TLS_KEY, SIM_TLS_CERT  PEM files: serve TLS instead of h2c
 *   LOG_LEVEL            debug|info|warn|error (info); debug logs every event received and sent
 */
import { readFileSync } from "node:fs";
import { AppError, describeError } from "../../shared/errors.ts";
import { Logger, type LogLevel } from "../../shared/log.ts";
import { EventLoopWatch } from "../event-loop-watch.ts";
import { type SimulatorOptions, startNovaSimulator } from "./server.ts";

export const DEFAULT_SIM_PORT = 8788;

function numberVar(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new AppError("bad_config", `${name}: expected a number >= 0`);
  return value;
}

export function optionsFromEnv(env: NodeJS.ProcessEnv): SimulatorOptions {
  const options: SimulatorOptions = {
    host: env.SIM_HOST?.trim() || "127.0.0.1",
    port: numberVar(env, "SIM_PORT") ?? DEFAULT_SIM_PORT,
  };
  const credentials = env.SIM_CREDENTIALS?.trim();
  if (credentials) {
    const [accessKeyId, secretAccessKey] = credentials.split(":");
    if (!accessKeyId || !secretAccessKey)
      throw new AppError("bad_config", "SIM_CREDENTIALS: expected KEY:SECRET");
    options.credentials = { accessKeyId, secretAccessKey };
  }
  if (env.SIM_REGION?.trim()) options.region = env.SIM_REGION.trim();
  const latency = env.SIM_LATENCY_MS?.trim();
  if (latency) {
    const [medianMs, p95Ms] = latency.split("/").map(Number);
    if (medianMs === undefined || p95Ms === undefined || !(p95Ms >= medianMs && medianMs >= 0)) {
      throw new AppError("bad_config", "SIM_LATENCY_MS: expected median/p95 with p95 >= median");
    }
    options.modelLatency = { medianMs, p95Ms };
  }
  const setupMs = numberVar(env, "SIM_CONNECTION_SETUP_MS");
  if (setupMs !== undefined) options.connectionSetupMs = setupMs;
  const limitMs = numberVar(env, "SIM_SESSION_LIMIT_MS");
  if (limitMs !== undefined) options.sessionLimitMs = limitMs;
  const seed = numberVar(env, "SIM_SEED");
  if (seed !== undefined) options.seed = seed;
  const speed = numberVar(env, "SIM_GENERATION_SPEED");
  if (speed !== undefined) options.generationSpeed = speed;
  const pauseMs = numberVar(env, "SIM_PAUSE_MS");
  if (pauseMs !== undefined) options.pauseMsBySensitivity = { HIGH: pauseMs, MEDIUM: pauseMs, LOW: pauseMs };
  const bargeInMs = numberVar(env, "SIM_BARGE_IN_DETECTION_MS");
  if (bargeInMs !== undefined) options.bargeInDetectionMs = bargeInMs;
  if (env.SIM_UTTERANCES?.trim()) options.utteranceManifest = env.SIM_UTTERANCES.trim();
  if (env.SIM_TLS_KEY && env.SIM_TLS_CERT) {
    options.tls = { key: readFileSync(env.SIM_TLS_KEY), cert: readFileSync(env.SIM_TLS_CERT) };
  }
  return options;
}

async function main(): Promise<void> {
  const level = (process.env.LOG_LEVEL ?? "info") as LogLevel;
  const logger = new Logger(
    {},
    { level: ["debug", "info", "warn", "error"].includes(level) ? level : "info" },
  );
  const simulator = await startNovaSimulator({ ...optionsFromEnv(process.env), logger });
  // Its own stalls would show in the benchmarks as our latency (its timestamps are taken on its loop): logged.
  const eventLoop = new EventLoopWatch({ logger: logger.child({ component: "nova-sim" }) });
  eventLoop.start();
  console.log(`Nova Sonic simulator listening on ${simulator.url}`);
  console.log(`  export AWS_ENDPOINT_URL_BEDROCK_RUNTIME=${simulator.url}`);
  console.log(`  control: ${simulator.url}/_sim/sessions, /_sim/faults (HTTP/2)`);
  const stop = () => {
    eventLoop.stop();
    simulator.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(`nova simulator failed to start: ${describeError(error)}`);
    process.exit(1);
  });
}

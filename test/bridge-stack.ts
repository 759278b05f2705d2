import { fileURLToPath } from "node:url";
/**
 * A bridge and the Nova Sonic simulator, both in-process on free ports, wired through the real AWS SDK
 * over HTTP/2 with SigV4 credentials the simulator verifies. Model latency and the turn-end pause are
 * compressed so that tests stay short; caller audio still flows in real time.
 */

import { parseBridgeConfig } from "../bridge/config.ts";
import { type RunningBridge, type StartBridgeOptions, startBridge } from "../bridge/main.ts";
import { createNovaClient } from "../bridge/nova/client.ts";
import { type NovaSimulator, type SimulatorOptions, startNovaSimulator } from "../bridge/simulator/server.ts";
import { Logger, type LogLevel } from "../shared/log.ts";

export const TEST_SECRET = "bridge-test-secret-0123456789";
const CREDENTIALS = { accessKeyId: "AKIDBRIDGETEST", secretAccessKey: "bridge-test-aws-secret" };
const REGION = "us-east-1";

/** The simulator "recognises" the caller fixtures by their energy envelope (it cannot do speech recognition). */
export const FIXTURE_MANIFEST = fileURLToPath(new URL("./fixtures/audio/manifest.json", import.meta.url));

export interface BridgeStack {
  bridge: RunningBridge;
  simulator: NovaSimulator;
  close(): Promise<void>;
}

export interface StackOptions {
  env?: Record<string, string>;
  simulator?: SimulatorOptions;
  bridge?: Omit<StartBridgeOptions, "client" | "logger">;
  logLevel?: LogLevel;
  /** Receives every log line (tests read the bridge's logs). */
  logSink?: (line: string) => void;
}

export async function startBridgeStack(options: StackOptions = {}): Promise<BridgeStack> {
  const level = options.logLevel ?? "error";
  const sink = options.logSink;
  const logger = new Logger({}, { level, ...(sink ? { sink: (line: string) => sink(line) } : {}) });
  const simulator = await startNovaSimulator({
    credentials: CREDENTIALS,
    region: REGION,
    modelLatency: { medianMs: 20, p95Ms: 40 },
    pauseMsBySensitivity: { HIGH: 400, MEDIUM: 400, LOW: 400 },
    utteranceManifest: FIXTURE_MANIFEST,
    seed: 11,
    logger: new Logger({}, { level: "error" }),
    ...options.simulator,
  });
  const config = parseBridgeConfig({
    BRIDGE_SECRET: TEST_SECRET,
    BRIDGE_REGION: REGION,
    BRIDGE_HOST: "127.0.0.1",
    BRIDGE_PORT: "0",
    BRIDGE_ID: "bridge-test",
    LOG_LEVEL: level,
    ...options.env,
  });
  const client = createNovaClient({
    region: REGION,
    endpoint: simulator.url,
    credentials: CREDENTIALS,
    requestTimeoutMs: 30_000,
    sessionTimeoutMs: 30_000,
  });
  const bridge = await startBridge(config, { ...options.bridge, client, logger });
  return {
    bridge,
    simulator,
    async close() {
      await bridge.close();
      client.destroy();
      await simulator.close();
    },
  };
}

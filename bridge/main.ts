/**
 * The bridge process: `npm run bridge`. Reads the configuration (bridge/config.ts) from the environment,
 * starts the server and prints where it listens. `startBridge` starts one in-process (tests, the local
 * stack, benchmarks) and returns its port and a `close()`.
 */
import { readFileSync } from "node:fs";
import type { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";
import { describeError } from "../shared/errors.ts";
import { Logger } from "../shared/log.ts";
import type { CallProbe } from "./call.ts";
import type { CustomTool } from "./call-actions.ts";
import { novaCallFactory } from "./call-factory.ts";
import { type BridgeConfig, parseBridgeConfig } from "./config.ts";
import { EventLoopWatch } from "./event-loop-watch.ts";
import type { FastPathMetrics } from "./fast-path-metrics.ts";
import { createFastPaths, type FastPaths } from "./fast-paths.ts";
import type { NovaModelSession } from "./model-session.ts";
import { createNovaClient } from "./nova/client.ts";
import type { SessionPool } from "./nova/pool.ts";
import { BridgeServer } from "./server.ts";
import { SessionStats } from "./session-stats.ts";

export interface RunningBridge {
  port: number;
  /** http://host:port */
  url: string;
  server: BridgeServer<NovaModelSession>;
  /** The warm pool (null when POOL_MAX is 0). */
  pool: SessionPool<NovaModelSession> | null;
  metrics: FastPathMetrics;
  /** The pool, the cached prompts, call control (fast-paths.ts). */
  fastPaths: FastPaths;
  /** Model sessions across calls: rollovers, failures by code, recoveries (also in GET /metrics). */
  sessionStats: SessionStats;
  /** How late the event loop runs, GC pauses, stalls (also in GET /metrics). */
  eventLoop: EventLoopWatch;
  close(): Promise<void>;
  /**
   * Stops taking calls, lets those in progress finish for up to `timeoutMs` (default BRIDGE_DRAIN_MS),
   * hands the rest over to other bridges (DRAINING), then closes.
   */
  drain(timeoutMs?: number): Promise<{ finished: number; handedOver: number }>;
}

export interface StartBridgeOptions {
  logger?: Logger;
  /** Default: a client built from the standard AWS environment, in the bridge's region. */
  client?: BedrockRuntimeClient;
  probe?: CallProbe;
  prewarmTtlMs?: number;
  /** The deployer's own tools, offered to the model beside the built-in ones. */
  tools?: readonly CustomTool[];
}

export async function startBridge(
  config: BridgeConfig,
  options: StartBridgeOptions = {},
): Promise<RunningBridge> {
  const logger = (options.logger ?? new Logger({}, { level: config.logLevel })).child({
    component: "bridge",
    bridgeId: config.bridgeId,
  });
  const client = options.client ?? createNovaClient({ region: config.region });
  const now = () => performance.timeOrigin + performance.now();
  const fastPaths = createFastPaths({
    config,
    client,
    ...(options.tools ? { customTools: options.tools } : {}),
    logger,
    now,
  });
  const { pool, metrics } = fastPaths;
  const sessionStats = new SessionStats();
  const eventLoop = new EventLoopWatch({ logger });
  const server = new BridgeServer<NovaModelSession>({
    secret: config.secret,
    bridgeId: config.bridgeId,
    region: config.region,
    maxCalls: config.maxCalls,
    logger,
    factory: novaCallFactory({
      config,
      client,
      pool,
      metrics,
      prompts: fastPaths.prompts,
      customTools: fastPaths.customTools,
      callControl: fastPaths.callControl,
      sessionStats,
      ...(options.probe ? { probe: options.probe } : {}),
    }),
    metrics: () => ({
      ...fastPaths.snapshot(),
      modelSessions: sessionStats.snapshot(),
      eventLoop: eventLoop.snapshot(),
    }),
    ...(options.prewarmTtlMs !== undefined ? { prewarmTtlMs: options.prewarmTtlMs } : {}),
  });
  const { port, host } = await server.listen(config.port, config.host);
  fastPaths.start();
  eventLoop.start();
  const shownHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return {
    port,
    url: `http://${shownHost}:${port}`,
    server,
    pool,
    metrics,
    fastPaths,
    sessionStats,
    eventLoop,
    async close() {
      eventLoop.stop();
      await server.close();
      await fastPaths.close();
      if (!options.client) client.destroy();
    },
    async drain(timeoutMs = config.fastPaths.drainMs) {
      await fastPaths.close();
      const outcome = await server.drain(timeoutMs);
      eventLoop.stop();
      if (!options.client) client.destroy();
      return outcome;
    },
  };
}

async function main(): Promise<void> {
  let config: BridgeConfig;
  try {
    config = parseBridgeConfig(process.env, (path) => readFileSync(path, "utf8"));
  } catch (error) {
    console.error(describeError(error));
    process.exit(2);
  }
  const bridge = await startBridge(config);
  console.log(
    `bridge ${config.bridgeId} (${config.region}) listening on ${bridge.url}, up to ${config.maxCalls} calls`,
  );
  const exitWhen = (done: Promise<unknown>) =>
    done.then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(describeError(error));
        process.exit(1);
      },
    );
  // SIGTERM (a deployment, a scale-in): drain, then hand over what is left. SIGINT: close now.
  process.once("SIGTERM", () => {
    console.log(`SIGTERM: closing the bridge (draining for up to ${config.fastPaths.drainMs} ms)`);
    exitWhen(
      bridge.drain().then(({ finished, handedOver }) => {
        console.log(`drained: ${finished} call(s) finished, ${handedOver} handed over`);
      }),
    );
  });
  process.once("SIGINT", () => {
    console.log("SIGINT: closing the bridge");
    exitWhen(bridge.close());
  });
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(describeError(error));
    process.exit(1);
  });
}

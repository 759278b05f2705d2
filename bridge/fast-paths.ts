/**
 * The bridge's fast paths, built from the configuration (config-fast-paths.ts): the warm pool of Nova
 * Sonic streams, the cached prompts (files converted now, disk-cached renderings read now, the rest
 * rendered through Nova Sonic once the bridge listens), Twilio call control for transfers, and the
 * metrics that show what they buy. One instance per bridge.
 */
import type { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";
import type { Logger } from "../shared/log.ts";
import type { CustomTool } from "./call-actions.ts";
import { type CallControl, twilioCallControl } from "./call-control.ts";
import type { BridgeConfig } from "./config.ts";
import { FastPathMetrics } from "./fast-path-metrics.ts";
import { NovaModelSession } from "./model-session.ts";
import { SessionPool } from "./nova/pool.ts";
import { renderPrompt } from "./prompt-render.ts";
import { PromptLibrary } from "./prompts.ts";

export interface FastPaths {
  pool: SessionPool<NovaModelSession> | null;
  prompts: PromptLibrary | null;
  callControl: CallControl | null;
  metrics: FastPathMetrics;
  customTools: readonly CustomTool[];
  /** Fills the pool and renders the prompts that need it (in the background). */
  start(): void;
  /** Settles when the prompts that needed rendering are ready or have failed (tests, benchmarks). */
  promptsRendered(): Promise<void>;
  /** Figures for GET /metrics. */
  snapshot(): Record<string, unknown>;
  /** Closes the pool's unused streams in protocol order. */
  close(): Promise<void>;
}

export function createFastPaths(args: {
  config: BridgeConfig;
  client: BedrockRuntimeClient;
  customTools?: readonly CustomTool[];
  logger: Logger;
  now: () => number;
}): FastPaths {
  const { config, client, logger, now } = args;
  const customTools = args.customTools ?? [];
  const extraTools = customTools.map((tool) => tool.spec);
  const { pool: poolConfig, prompts: promptsConfig, transfer } = config.fastPaths;
  const metrics = new FastPathMetrics();
  const pool =
    poolConfig.maxSize > 0
      ? new SessionPool<NovaModelSession>({
          open: () =>
            NovaModelSession.open({ client, model: config.model, extraTools, warm: true, logger, now }),
          minSize: poolConfig.minSize,
          maxSize: poolConfig.maxSize,
          maxAgeMs: poolConfig.maxAgeMs,
          logger,
          now,
        })
      : null;
  const prompts =
    promptsConfig.sources.length > 0
      ? PromptLibrary.load({ config: promptsConfig, model: config.model, logger })
      : null;
  const callControl = transfer.twilio
    ? twilioCallControl({ ...transfer.twilio, apiBaseUrl: transfer.apiBaseUrl })
    : null;
  if (transfer.number !== null && callControl === null) {
    logger.warn("TRANSFER_NUMBER is set but Twilio credentials are not: transfers will be refused");
  }
  let rendering: Promise<void> = Promise.resolve();
  return {
    pool,
    prompts,
    callControl,
    metrics,
    customTools,
    start() {
      pool?.start();
      if (prompts && prompts.pending.length > 0) {
        rendering = prompts.renderPending((text) =>
          renderPrompt({ client, model: config.model, text, logger, now }),
        );
      }
    },
    promptsRendered: () => rendering,
    snapshot: () => ({
      pool: pool?.stats() ?? null,
      prompts: prompts?.status() ?? {},
      ...metrics.snapshot(),
    }),
    close: async () => {
      await pool?.close();
    },
  };
}

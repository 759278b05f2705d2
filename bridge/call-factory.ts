/**
 * How the server makes calls: each call gets a Nova Sonic session (adopting the one a pre-warm opened, if
 * it is still usable, else one from the warm pool, else a new one), its own VAD, and the bridge's
 * configuration. How long each session took to be ready for audio, counted from the moment the call asked
 * for it (Twilio's `start`), is measured by source (fast-path-metrics.ts) and logged. Calls get the cached
 * prompts (unless a pre-warm chose another voice), the deployer's tools and Twilio call control.
 */
import type { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";
import type { Logger } from "../shared/log.ts";
import { Call, type CallProbe, preciseNowMs } from "./call.ts";
import type { CustomTool } from "./call-actions.ts";
import type { CallControl } from "./call-control.ts";
import type { PromptSource } from "./call-prompts.ts";
import { VadCallerVoice } from "./caller-voice.ts";
import type { BridgeConfig } from "./config.ts";
import type { FastPathMetrics, SessionSource } from "./fast-path-metrics.ts";
import { NovaModelSession } from "./model-session.ts";
import type { SessionPool } from "./nova/pool.ts";
import type { CallFactory } from "./server.ts";
import type { SessionStats } from "./session-stats.ts";

export interface CallFactoryDeps {
  config: BridgeConfig;
  client: BedrockRuntimeClient;
  /** Ready streams opened ahead of calls (null: no pool). */
  pool?: SessionPool<NovaModelSession> | null;
  metrics?: FastPathMetrics;
  /** Cached prompts (prompts.ts) in the configured voice. */
  prompts?: (PromptSource & { voiceId: string }) | null;
  customTools?: readonly CustomTool[];
  callControl?: CallControl | null;
  probe?: CallProbe;
  now?: () => number;
  /** Model sessions across calls (rollovers, failures, recoveries). */
  sessionStats?: SessionStats;
}

export function novaCallFactory(deps: CallFactoryDeps): CallFactory<NovaModelSession> {
  const now = deps.now ?? preciseNowMs;
  const { config, client } = deps;
  const extraTools = (deps.customTools ?? []).map((tool) => tool.spec);
  /** Pre-warmed sessions with a voice or system prompt of their own (a pooled one cannot stand in). */
  const customised = new WeakSet<NovaModelSession>();
  /** Logs (and counts) when the session became ready for audio, counted from when the call asked for it. */
  const measureReady = (
    session: NovaModelSession,
    source: SessionSource,
    requestedAtMs: number,
    logger: Logger,
  ): void => {
    void session.accepted.then((accepted) => {
      if (!accepted) return;
      const readyAfterMs = Math.max(0, (session.acceptedAtMs ?? now()) - requestedAtMs);
      deps.metrics?.sessionReady(source, readyAfterMs);
      logger.info("model session ready", { source, readyAfterMs: Math.round(readyAfterMs * 10) / 10 });
    });
  };
  return {
    prewarm(request, logger) {
      logger.info("pre-warming a model session");
      const session = NovaModelSession.open({
        client,
        model: config.model,
        overrides: { voiceId: request.voiceId, systemPrompt: request.systemPrompt },
        extraTools,
        warm: true,
        logger,
        now,
      });
      const ownVoice = request.voiceId !== undefined && request.voiceId !== config.model.voiceId;
      const ownPrompt =
        request.systemPrompt !== undefined && request.systemPrompt !== config.model.systemPrompt;
      if (ownVoice || ownPrompt) customised.add(session);
      return session;
    },
    disposeWarm(warm) {
      void warm.close();
    },
    startCall({ callSid, link, warm, logger }) {
      let prewarmed = warm;
      // A call pre-warmed with its own voice or prompt keeps them in every later session (rollover,
      // recovery): those are opened with the same overrides, never taken from the pool.
      const ownSettings = warm !== null && customised.has(warm) ? warm.overrides : null;
      const prompts = deps.prompts && (!warm || warm.voiceId === deps.prompts.voiceId) ? deps.prompts : null;
      return new Call({
        callSid,
        config,
        link,
        logger,
        voice: new VadCallerVoice({ minSpeechMs: config.bargeIn.minSpeechMs }),
        ...(deps.probe ? { probe: deps.probe } : {}),
        prompts,
        customTools: deps.customTools ?? [],
        callControl: deps.callControl ?? null,
        ...(deps.metrics ? { metrics: deps.metrics } : {}),
        ...(deps.sessionStats ? { sessionStats: deps.sessionStats } : {}),
        now,
        openSession(listener) {
          const requestedAtMs = now();
          let source: SessionSource = "prewarm";
          let session = prewarmed;
          prewarmed = null;
          if (session && !session.isOpen) {
            logger.warn("pre-warmed session was closed while it waited; opening another");
            void session.close();
            session = null;
          } else if (
            session &&
            session.acceptedAtMs === undefined &&
            !customised.has(session) &&
            (deps.pool?.readyCount ?? 0) > 0
          ) {
            // The pre-warm is still connecting while the pool holds a ready stream: the ready one serves.
            void session.close();
            session = null;
          }
          if (!session && !ownSettings) {
            source = "pool";
            session = deps.pool?.take() ?? null;
            if (session) logger.info("pooled model session taken", { promptName: session.key });
          }
          if (!session) {
            source = "cold";
            session = NovaModelSession.open({
              client,
              model: config.model,
              ...(ownSettings ? { overrides: ownSettings } : {}),
              extraTools,
              warm: false,
              logger,
              now,
            });
          }
          session.attach(listener);
          measureReady(session, source, requestedAtMs, logger);
          return session;
        },
      });
    },
  };
}

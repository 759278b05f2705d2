/**
 * How the server makes calls: each call gets a Nova Sonic session (adopting the one a pre-warm opened, if
 * it is still usable), its own VAD, and the bridge's configuration.
 */
import type { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";
import { Call, type CallProbe, preciseNowMs } from "./call.ts";
import { VadCallerVoice } from "./caller-voice.ts";
import type { BridgeConfig } from "./config.ts";
import { NovaModelSession } from "./model-session.ts";
import type { CallFactory } from "./server.ts";

export interface CallFactoryDeps {
  config: BridgeConfig;
  client: BedrockRuntimeClient;
  probe?: CallProbe;
  now?: () => number;
}

export function novaCallFactory(deps: CallFactoryDeps): CallFactory<NovaModelSession> {
  const now = deps.now ?? preciseNowMs;
  const { config, client } = deps;
  return {
    prewarm(request, logger) {
      logger.info("pre-warming a model session");
      return NovaModelSession.open({
        client,
        model: config.model,
        overrides: { voiceId: request.voiceId, systemPrompt: request.systemPrompt },
        warm: true,
        logger,
        now,
      });
    },
    disposeWarm(warm) {
      void warm.close();
    },
    startCall({ callSid, link, warm, logger }) {
      return new Call({
        callSid,
        config,
        link,
        logger,
        voice: new VadCallerVoice({ minSpeechMs: config.bargeIn.minSpeechMs }),
        ...(deps.probe ? { probe: deps.probe } : {}),
        now,
        openSession(listener) {
          let session = warm;
          if (session && !session.isOpen) {
            logger.warn("pre-warmed session was closed while it waited; opening another");
            void session.close();
            session = null;
          }
          session ??= NovaModelSession.open({ client, model: config.model, warm: false, logger, now });
          session.attach(listener);
          return session;
        },
      });
    },
  };
}

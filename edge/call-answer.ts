/**
 * Answering Twilio's voice webhook: pick a bridge, record the call in its Durable Object, send the
 * bridge a pre-warm hint (without waiting for it) and return the `<Connect><Stream>` TwiML. With no usable
 * bridge the caller hears an apology and the call hangs up.
 */
import { AppError, describeError } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import { signToken } from "../shared/signed-token.ts";
import { sendPrewarm, signBridgeToken } from "./bridge-client.ts";
import type { BridgeEndpoint, EdgeConfig } from "./config.ts";
import { DIRECTORY_NAME, type EdgeEnv, registryName } from "./env.ts";
import type { SignedParams } from "./twilio-signature.ts";
import { renderApology, renderConnectStream } from "./twiml.ts";
import { CALL_SID, firstParam } from "./webhooks.ts";

export interface AnswerDeps {
  env: EdgeEnv;
  config: EdgeConfig;
  log: Logger;
  waitUntil: (promise: Promise<unknown>) => void;
}

export function mediaStreamUrl(config: EdgeConfig, callSid: string): string {
  return `${config.publicWsBaseUrl}/media/${callSid}`;
}

export function streamStatusUrl(config: EdgeConfig): string {
  return `${config.publicBaseUrl}/stream-status`;
}

/** A call to admit: Twilio's (from /voice) or a browser softphone's (from POST /phone/calls). */
export interface NewCall {
  callSid: string;
  accountSid: string | null;
  from: string | null;
  to: string | null;
}

/** What an admitted call streams with: its bridge and the stream token for `start.customParameters`. */
export interface AdmittedCall {
  bridge: BridgeEndpoint;
  streamToken: string;
}

/**
 * Picks a bridge, sends it the pre-warm hint (not awaited), records the call as ringing in its Durable
 * Object and in the directory, and signs its stream token; null when no bridge is usable (the call is
 * still recorded, with no bridge).
 */
export async function admitCall(deps: AnswerDeps, call: NewCall): Promise<AdmittedCall | null> {
  const { env, config } = deps;
  const callSid = call.callSid;
  const log = deps.log.child({ callSid });
  const nowMs = Date.now();

  let bridge: BridgeEndpoint | null = null;
  try {
    const registry = env.BRIDGE_REGISTRY.get(
      env.BRIDGE_REGISTRY.idFromName(registryName(config.bridgeRegion)),
    );
    bridge = await registry.pick([]);
  } catch (error) {
    log.error("bridge registry failed", { error: describeError(error) });
  }
  if (bridge) {
    const chosen = bridge;
    const prewarm = signBridgeToken(config.bridgeSecret, callSid, config.bridgeTokenTtlMs, nowMs)
      .then((token) => sendPrewarm(chosen, { callSid }, token, config.bridgeTimeoutMs))
      .catch((error: unknown) =>
        log.warn("prewarm failed", { bridgeId: chosen.id, error: describeError(error) }),
      );
    deps.waitUntil(prewarm);
  }

  const session = env.CALL_SESSION.get(env.CALL_SESSION.idFromName(callSid));
  await session.recordRinging({
    ...call,
    bridgeId: bridge?.id ?? null,
    bridgeRegion: bridge?.region ?? null,
    atMs: nowMs,
  });
  const directory = env.CALL_DIRECTORY.get(env.CALL_DIRECTORY.idFromName(DIRECTORY_NAME));
  deps.waitUntil(
    directory
      .addCall(callSid, nowMs)
      .catch((error: unknown) => log.warn("directory update failed", { error: describeError(error) })),
  );

  if (!bridge) {
    log.warn("no usable bridge", { region: config.bridgeRegion });
    return null;
  }
  const streamToken = await signToken(config.bridgeSecret, {
    purpose: "stream",
    subject: callSid,
    expiresAtMs: nowMs + config.streamTokenTtlMs,
  });
  log.info("call answered", { bridgeId: bridge.id });
  return { bridge, streamToken };
}

/** The TwiML for Twilio's voice webhook; throws only for a request that is not a call (no CallSid). */
export async function answerCall(deps: AnswerDeps, params: SignedParams): Promise<string> {
  const callSid = firstParam(params, "CallSid") ?? "";
  if (!CALL_SID.test(callSid))
    throw new AppError("bad_frame", "voice webhook: CallSid is missing or malformed");
  const admitted = await admitCall(deps, {
    callSid,
    accountSid: firstParam(params, "AccountSid"),
    from: firstParam(params, "From"),
    to: firstParam(params, "To"),
  });
  if (!admitted) return renderApology();
  return renderConnectStream({
    streamUrl: mediaStreamUrl(deps.config, callSid),
    statusCallbackUrl: streamStatusUrl(deps.config),
    parameters: [{ name: "token", value: admitted.streamToken }],
  });
}

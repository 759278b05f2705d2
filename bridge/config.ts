/**
 * The bridge's configuration, parsed once from the environment. Every problem is collected and reported
 * together in one AppError("bad_config"), so that a deployment is fixed in one round, not one variable at
 * a time. Pure: the caller passes the environment and a file reader (for the system prompt file).
 *
 * The standard AWS variables (AWS_REGION, the credential chain, AWS_ENDPOINT_URL_BEDROCK_RUNTIME) are read
 * by the AWS SDK itself and are not repeated here, except that AWS_REGION is BRIDGE_REGION's default.
 */
import { AppError } from "../shared/errors.ts";
import type { LogLevel } from "../shared/log.ts";
import { FAST_PATH_VARIABLES, type FastPathConfig, parseFastPathConfig } from "./config-fast-paths.ts";
import { parseSessionPolicy, SESSION_VARIABLES, type SessionPolicyConfig } from "./config-sessions.ts";
import {
  type ConfigVariable,
  decimal,
  type Env,
  flag,
  integer,
  oneOf,
  Problems,
  text,
} from "./config-values.ts";
import { BUILT_IN_TOOL_NAMES, type BuiltInToolName } from "./tools.ts";

export type { ConfigVariable, Env } from "./config-values.ts";

export const MODEL_SAMPLE_RATES_HZ = [8000, 16000, 24000] as const;
export type ModelSampleRateHz = (typeof MODEL_SAMPLE_RATES_HZ)[number];
export const AUDIO_INPUT_MS = [20, 40, 60, 80, 100] as const;
export const PLAYBACK_SEND_MS = [20, 40, 60, 80, 100] as const;
export const ENDPOINTING_SENSITIVITIES = ["HIGH", "MEDIUM", "LOW"] as const;
export type EndpointingSensitivity = (typeof ENDPOINTING_SENSITIVITIES)[number];
const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

export const DEFAULT_SYSTEM_PROMPT =
  "You are a friendly voice assistant on a phone call. Keep every reply short: one or two sentences, " +
  "plain spoken language, no lists or markup. If the caller wants to end the call, say goodbye and use " +
  "the hang_up tool. If the caller asks for a person, use the transfer tool.";
export const DEFAULT_GREETING_INSTRUCTION = "The caller has just connected. Greet them.";

export interface BargeInConfig {
  /** Cut the reply when the local VAD hears the caller (the model's own interruption signal always cuts). */
  vadEnabled: boolean;
  /**
   * Active caller speech (VAD) needed before it cuts the reply. 400 ms: on the fixtures, "mm-hm" holds
   * 240 ms and "uh-huh" 360 ms of active speech, every real utterance reaches 400 ms.
   */
  minSpeechMs: number;
}

export interface ModelConfig {
  modelId: string;
  voiceId: string;
  systemPrompt: string;
  /** The interactive USER text turn that asks the model for the greeting (the model never speaks first). */
  greetingInstruction: string;
  tools: readonly BuiltInToolName[];
  endpointingSensitivity: EndpointingSensitivity;
  inputSampleRateHz: ModelSampleRateHz;
  outputSampleRateHz: ModelSampleRateHz;
  /**
   * Caller audio per audioInput event: 20 ms sends each Twilio frame at once (lowest latency); 40 ms halves
   * the AWS SDK's per-event signing cost at the price of 20 ms on every other frame.
   */
  audioInputMs: (typeof AUDIO_INPUT_MS)[number];
  /**
   * Caller audio per audioInput event while nobody waits on it: the caller is not speaking (local VAD) and
   * has no speech the model has yet to answer. Latency is not at stake then, so fewer, larger events save
   * the per-event cost; the moment the caller speaks, what has gathered goes at once and `audioInputMs`
   * applies again. Equal to `audioInputMs`: no difference.
   */
  idleAudioInputMs: (typeof AUDIO_INPUT_MS)[number];
  maxTokens: number;
  temperature: number;
  topP: number;
}

export interface BridgeConfig {
  host: string;
  port: number;
  /** Shared with the edge: verifies the per-call bridge tokens. */
  secret: string;
  bridgeId: string;
  region: string;
  maxCalls: number;
  model: ModelConfig;
  /** How far ahead of real time audio is released towards Twilio. */
  playbackLeadMs: number;
  /**
   * Reply audio per Twilio media message once a reply's first burst is out: 40 ms halves the messages
   * (and the edge's work per call) against 20 ms; Twilio plays any size in order, and `clear` drops
   * whatever is buffered, so barge-in is not slower.
   */
  playbackSendMs: (typeof PLAYBACK_SEND_MS)[number];
  bargeIn: BargeInConfig;
  logLevel: LogLevel;
  /** Warm pool, cached prompts, transfer, hold, drain (config-fast-paths.ts). */
  fastPaths: FastPathConfig;
  /** Long calls and model failures (config-sessions.ts). */
  sessions: SessionPolicyConfig;
}

export const CONFIG_VARIABLES: readonly ConfigVariable[] = [
  { name: "BRIDGE_HOST", meaning: "interface to listen on", defaultValue: "0.0.0.0" },
  { name: "BRIDGE_PORT", meaning: "TCP port (0 = any free port)", defaultValue: "8081" },
  {
    name: "BRIDGE_SECRET",
    meaning: "HMAC secret shared with the edge (>= 16 chars)",
    defaultValue: "required",
  },
  { name: "BRIDGE_ID", meaning: "this bridge's name in health and logs", defaultValue: "bridge-<region>" },
  { name: "BRIDGE_REGION", meaning: "AWS region of this bridge and its model", defaultValue: "AWS_REGION" },
  { name: "MAX_CALLS", meaning: "concurrent calls accepted before 503", defaultValue: "100" },
  { name: "NOVA_MODEL_ID", meaning: "Bedrock model id", defaultValue: "amazon.nova-2-sonic-v1:0" },
  { name: "NOVA_VOICE_ID", meaning: "voice of the agent", defaultValue: "matthew" },
  { name: "NOVA_SYSTEM_PROMPT", meaning: "system prompt text", defaultValue: "a short phone persona" },
  { name: "NOVA_SYSTEM_PROMPT_FILE", meaning: "file holding the system prompt", defaultValue: "unset" },
  {
    name: "NOVA_GREETING_INSTRUCTION",
    meaning: "text turn asking for the greeting",
    defaultValue: "built in",
  },
  { name: "NOVA_TOOLS", meaning: "built-in tools offered, comma-separated", defaultValue: "all" },
  { name: "NOVA_ENDPOINTING", meaning: "turn-end sensitivity HIGH|MEDIUM|LOW", defaultValue: "MEDIUM" },
  { name: "NOVA_INPUT_SAMPLE_RATE_HZ", meaning: "caller audio rate to the model", defaultValue: "8000" },
  { name: "NOVA_OUTPUT_SAMPLE_RATE_HZ", meaning: "model audio rate", defaultValue: "8000" },
  { name: "NOVA_AUDIO_INPUT_MS", meaning: "caller audio per audioInput event (20-100)", defaultValue: "20" },
  {
    name: "NOVA_IDLE_AUDIO_INPUT_MS",
    meaning: "caller audio per audioInput while nobody waits on it (20-100, ≥ NOVA_AUDIO_INPUT_MS)",
    defaultValue: "40",
  },
  { name: "NOVA_MAX_TOKENS", meaning: "inference maxTokens", defaultValue: "1024" },
  { name: "NOVA_TEMPERATURE", meaning: "inference temperature", defaultValue: "0.7" },
  { name: "NOVA_TOP_P", meaning: "inference topP", defaultValue: "0.9" },
  { name: "PLAYBACK_LEAD_MS", meaning: "audio released ahead of real time", defaultValue: "100" },
  {
    name: "PLAYBACK_SEND_MS",
    meaning: "reply audio per Twilio media message after a reply's first burst (20-100, < PLAYBACK_LEAD_MS)",
    defaultValue: "40",
  },
  { name: "BARGE_IN_VAD", meaning: "cut replies on local VAD (on|off)", defaultValue: "on" },
  { name: "BARGE_IN_MIN_SPEECH_MS", meaning: "active speech before a VAD barge-in", defaultValue: "500" },
  { name: "LOG_LEVEL", meaning: "debug|info|warn|error", defaultValue: "info" },
  ...FAST_PATH_VARIABLES,
  ...SESSION_VARIABLES,
];

function systemPrompt(env: Env, readTextFile: (path: string) => string, problems: Problems): string {
  const inline = text(env, "NOVA_SYSTEM_PROMPT");
  const path = text(env, "NOVA_SYSTEM_PROMPT_FILE");
  if (inline !== undefined && path !== undefined) {
    problems.add(
      "NOVA_SYSTEM_PROMPT_FILE",
      "set either NOVA_SYSTEM_PROMPT or NOVA_SYSTEM_PROMPT_FILE, not both",
    );
  }
  if (path !== undefined) {
    try {
      const content = readTextFile(path).trim();
      if (content === "") problems.add("NOVA_SYSTEM_PROMPT_FILE", `${path} is empty`);
      return content;
    } catch (cause) {
      problems.add("NOVA_SYSTEM_PROMPT_FILE", `cannot read ${path} (${String(cause)})`);
      return "";
    }
  }
  return inline ?? DEFAULT_SYSTEM_PROMPT;
}

function tools(env: Env, problems: Problems): BuiltInToolName[] {
  const raw = env.NOVA_TOOLS;
  if (raw === undefined) return [...BUILT_IN_TOOL_NAMES];
  const names = raw
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  const chosen: BuiltInToolName[] = [];
  for (const name of names) {
    const known = BUILT_IN_TOOL_NAMES.find((tool) => tool === name);
    if (known === undefined)
      problems.add("NOVA_TOOLS", `unknown tool "${name}" (known: ${BUILT_IN_TOOL_NAMES.join(", ")})`);
    else if (!chosen.includes(known)) chosen.push(known);
  }
  return chosen;
}

/** Parses the bridge's environment; throws AppError("bad_config") listing every problem found. */
export function parseBridgeConfig(
  env: Env,
  readTextFile: (path: string) => string = () => {
    throw new Error("no file reader given");
  },
): BridgeConfig {
  const problems = new Problems();

  const secret = text(env, "BRIDGE_SECRET") ?? "";
  if (secret === "") problems.add("BRIDGE_SECRET", "required (the HMAC secret shared with the edge)");
  else if (secret.length < 16) problems.add("BRIDGE_SECRET", "must be at least 16 characters");

  const region = text(env, "BRIDGE_REGION") ?? text(env, "AWS_REGION") ?? "";
  if (region === "") problems.add("BRIDGE_REGION", "required (or set AWS_REGION)");
  else if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
    problems.add("BRIDGE_REGION", `"${region}" is not a region`);

  const bridgeId = text(env, "BRIDGE_ID") ?? `bridge-${region || "unknown"}`;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(bridgeId)) {
    problems.add("BRIDGE_ID", "1-64 characters from A-Z a-z 0-9 . _ -");
  }

  const playbackLeadMs = integer(env, "PLAYBACK_LEAD_MS", 100, 40, 2000, problems);
  const playbackSendMs = oneOf(
    env,
    "PLAYBACK_SEND_MS",
    PLAYBACK_SEND_MS,
    playbackLeadMs >= 60 ? 40 : 20,
    problems,
  );
  if (playbackSendMs > playbackLeadMs - 20) {
    problems.add("PLAYBACK_SEND_MS", `must be at most PLAYBACK_LEAD_MS - 20 (${playbackLeadMs - 20})`);
  }
  const greetingInstruction = text(env, "NOVA_GREETING_INSTRUCTION") ?? DEFAULT_GREETING_INSTRUCTION;
  const audioInputMs = oneOf(env, "NOVA_AUDIO_INPUT_MS", AUDIO_INPUT_MS, 20, problems);
  const idleAudioInputMs = oneOf(
    env,
    "NOVA_IDLE_AUDIO_INPUT_MS",
    AUDIO_INPUT_MS,
    Math.max(audioInputMs, 40) as (typeof AUDIO_INPUT_MS)[number],
    problems,
  );
  if (idleAudioInputMs < audioInputMs) {
    problems.add("NOVA_IDLE_AUDIO_INPUT_MS", `must be at least NOVA_AUDIO_INPUT_MS (${audioInputMs})`);
  }
  const model: ModelConfig = {
    modelId: text(env, "NOVA_MODEL_ID") ?? "amazon.nova-2-sonic-v1:0",
    voiceId: text(env, "NOVA_VOICE_ID") ?? "matthew",
    systemPrompt: systemPrompt(env, readTextFile, problems),
    greetingInstruction,
    tools: tools(env, problems),
    endpointingSensitivity: oneOf(env, "NOVA_ENDPOINTING", ENDPOINTING_SENSITIVITIES, "MEDIUM", problems),
    inputSampleRateHz: oneOf(env, "NOVA_INPUT_SAMPLE_RATE_HZ", MODEL_SAMPLE_RATES_HZ, 8000, problems),
    outputSampleRateHz: oneOf(env, "NOVA_OUTPUT_SAMPLE_RATE_HZ", MODEL_SAMPLE_RATES_HZ, 8000, problems),
    audioInputMs,
    idleAudioInputMs,
    maxTokens: integer(env, "NOVA_MAX_TOKENS", 1024, 1, 10_000, problems),
    temperature: decimal(env, "NOVA_TEMPERATURE", 0.7, 0, 1, problems),
    topP: decimal(env, "NOVA_TOP_P", 0.9, 0, 1, problems),
  };
  if (!/^[A-Za-z0-9.:_-]{1,128}$/.test(model.modelId)) problems.add("NOVA_MODEL_ID", "not a model id");
  if (!/^[a-z_]{1,64}$/.test(model.voiceId))
    problems.add("NOVA_VOICE_ID", "expected a voice name like matthew");

  const config: BridgeConfig = {
    host: text(env, "BRIDGE_HOST") ?? "0.0.0.0",
    port: integer(env, "BRIDGE_PORT", 8081, 0, 65535, problems),
    secret,
    bridgeId,
    region,
    maxCalls: integer(env, "MAX_CALLS", 100, 1, 100_000, problems),
    model,
    playbackLeadMs,
    playbackSendMs,
    bargeIn: {
      vadEnabled: flag(env, "BARGE_IN_VAD", true, problems),
      minSpeechMs: integer(env, "BARGE_IN_MIN_SPEECH_MS", 500, 20, 2000, problems),
    },
    logLevel: oneOf(env, "LOG_LEVEL", LOG_LEVELS, "info", problems),
    fastPaths: parseFastPathConfig(env, problems),
    sessions: parseSessionPolicy(env, problems),
  };

  if (problems.list.length > 0) {
    throw new AppError(
      "bad_config",
      `bridge configuration has ${problems.list.length} problem(s):\n  ${problems.list.join("\n  ")}`,
    );
  }
  return config;
}

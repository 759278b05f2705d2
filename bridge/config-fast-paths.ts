/**
 * The configuration of the bridge's fast paths and call actions (issue 6): the warm pool of Nova Sonic
 * streams, the cached prompts, the transfer target and Twilio credentials, the hold prompt's delay, and the
 * drain on SIGTERM. Parsed with the rest of the configuration (bridge/config.ts); every problem is
 * collected. The pool and the cached prompts are off unless configured.
 */
import { CACHED_PROMPT_IDS, type CachedPromptId } from "../shared/bridge-protocol.ts";
import { type ConfigVariable, type Env, flag, integer, type Problems, text } from "./config-values.ts";
import { DEFAULT_STREAM_IDLE_TIMEOUT_MS } from "./nova/client.ts";

export const PROMPT_IDS = CACHED_PROMPT_IDS;
export type PromptId = CachedPromptId;

export const DEFAULT_PROMPT_TEXTS: Readonly<Record<PromptId, string>> = {
  greeting: "Hello, thanks for calling. How can I help you today?",
  hold: "Please hold for a moment while I look that up.",
  transfer: "I am transferring you to a colleague now. Please stay on the line.",
  apology: "Sorry, I am having trouble on my side. Please bear with me for a moment.",
  goodbye: "Thank you for calling. Goodbye!",
};

export interface PoolConfig {
  /** 0 = no pool. */
  maxSize: number;
  minSize: number;
  maxAgeMs: number;
}

export interface PromptSource {
  id: PromptId;
  text: string;
  /** A WAV file the deployer provides; null: rendered through Nova Sonic. */
  file: string | null;
}

export interface PromptsConfig {
  /** The prompts that play from the cache (none by default). */
  sources: readonly PromptSource[];
  /** Where rendered prompts are kept between starts; null: in memory only. */
  cacheDir: string | null;
  /** Render prompts that have no file through Nova Sonic (at start-up, in the background). */
  render: boolean;
}

export interface TransferConfig {
  /** E.164 number the `transfer` tool dials; null: transfers are refused. */
  number: string | null;
  /** Twilio REST credentials; null: transfers are refused. */
  twilio: { accountSid: string; authToken: string } | null;
  /** Origin of Twilio's REST API (a stand-in in tests, or an egress proxy); null: Twilio's own. */
  apiBaseUrl: string | null;
}

export interface FastPathConfig {
  pool: PoolConfig;
  prompts: PromptsConfig;
  transfer: TransferConfig;
  /** A tool still running after this long gets the hold prompt (looped until its result). */
  holdAfterMs: number;
  /** On SIGTERM: how long calls in progress may finish before they are handed over. */
  drainMs: number;
}

/** Below the HTTP/2 idle timeouts of the Nova client, with room to spare. */
const MAX_POOL_AGE_MS = DEFAULT_STREAM_IDLE_TIMEOUT_MS - 10_000;

export const FAST_PATH_VARIABLES: readonly ConfigVariable[] = [
  {
    name: "POOL_MAX",
    meaning: "most ready Nova streams held ahead of calls (0 = no pool)",
    defaultValue: "0",
  },
  { name: "POOL_MIN", meaning: "ready streams held even when no call comes", defaultValue: "0" },
  {
    name: "POOL_MAX_AGE_MS",
    meaning: `a pooled stream is closed and replaced at this age (<= ${MAX_POOL_AGE_MS})`,
    defaultValue: "30000",
  },
  {
    name: "PROMPTS",
    meaning: `cached prompts to use, comma-separated (${PROMPT_IDS.join(", ")}; or all)`,
    defaultValue: "none",
  },
  ...PROMPT_IDS.flatMap((id) => [
    {
      name: `PROMPT_${id.toUpperCase()}_TEXT`,
      meaning: `what the ${id} prompt says`,
      defaultValue: DEFAULT_PROMPT_TEXTS[id],
    },
    {
      name: `PROMPT_${id.toUpperCase()}_FILE`,
      meaning: `WAV file of the ${id} prompt (unset: rendered through Nova Sonic)`,
      defaultValue: "unset",
    },
  ]),
  {
    name: "PROMPT_CACHE_DIR",
    meaning: "directory keeping rendered prompts between starts",
    defaultValue: "unset",
  },
  {
    name: "PROMPT_RENDER",
    meaning: "render prompts without a file through Nova Sonic (on|off)",
    defaultValue: "on",
  },
  { name: "TRANSFER_NUMBER", meaning: "E.164 number the transfer tool dials", defaultValue: "unset" },
  {
    name: "TWILIO_ACCOUNT_SID",
    meaning: "Twilio account for call control (transfer)",
    defaultValue: "unset",
  },
  { name: "TWILIO_AUTH_TOKEN", meaning: "its auth token", defaultValue: "unset" },
  {
    name: "TWILIO_API_BASE_URL",
    meaning: "origin of Twilio's REST API",
    defaultValue: "https://api.twilio.com",
  },
  { name: "HOLD_AFTER_MS", meaning: "a tool running longer gets the hold prompt", defaultValue: "700" },
  {
    name: "BRIDGE_DRAIN_MS",
    meaning: "on SIGTERM, time calls get to finish before handover",
    defaultValue: "90000",
  },
];

function prompts(env: Env, problems: Problems): PromptsConfig {
  const raw = (text(env, "PROMPTS") ?? "none").toLowerCase();
  let ids: PromptId[] = [];
  if (raw === "all") ids = [...PROMPT_IDS];
  else if (raw !== "none" && raw !== "off") {
    for (const name of raw.split(",").map((part) => part.trim())) {
      if (name === "") continue;
      const id = PROMPT_IDS.find((known) => known === name);
      if (id === undefined)
        problems.add("PROMPTS", `unknown prompt "${name}" (known: ${PROMPT_IDS.join(", ")})`);
      else if (!ids.includes(id)) ids.push(id);
    }
  }
  const sources = ids.map((id): PromptSource => {
    const upper = id.toUpperCase();
    const promptText = text(env, `PROMPT_${upper}_TEXT`) ?? DEFAULT_PROMPT_TEXTS[id];
    if (promptText.length > 1000) problems.add(`PROMPT_${upper}_TEXT`, "longer than 1000 characters");
    return { id, text: promptText, file: text(env, `PROMPT_${upper}_FILE`) ?? null };
  });
  const render = flag(env, "PROMPT_RENDER", true, problems);
  for (const source of sources) {
    if (source.file === null && !render) {
      problems.add(`PROMPT_${source.id.toUpperCase()}_FILE`, "required when PROMPT_RENDER is off");
    }
  }
  return { sources, cacheDir: text(env, "PROMPT_CACHE_DIR") ?? null, render };
}

function transfer(env: Env, problems: Problems): TransferConfig {
  const number = text(env, "TRANSFER_NUMBER") ?? null;
  if (number !== null && !/^\+[1-9]\d{6,14}$/.test(number)) {
    problems.add("TRANSFER_NUMBER", "expected an E.164 number like +15551234567");
  }
  const accountSid = text(env, "TWILIO_ACCOUNT_SID");
  const authToken = text(env, "TWILIO_AUTH_TOKEN");
  if (accountSid !== undefined && !/^AC[0-9a-fA-F]{32}$/.test(accountSid)) {
    problems.add("TWILIO_ACCOUNT_SID", "expected an account SID (AC followed by 32 hex digits)");
  }
  if ((accountSid === undefined) !== (authToken === undefined)) {
    problems.add("TWILIO_AUTH_TOKEN", "set both TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or neither");
  }
  const apiBaseUrl = text(env, "TWILIO_API_BASE_URL") ?? null;
  if (apiBaseUrl !== null && !/^https?:\/\/[^/\s]+\/?$/.test(apiBaseUrl)) {
    problems.add("TWILIO_API_BASE_URL", "expected an origin like https://api.twilio.com");
  }
  return {
    number,
    twilio: accountSid && authToken ? { accountSid, authToken } : null,
    apiBaseUrl,
  };
}

export function parseFastPathConfig(env: Env, problems: Problems): FastPathConfig {
  const maxSize = integer(env, "POOL_MAX", 0, 0, 1000, problems);
  const minSize = integer(env, "POOL_MIN", 0, 0, 1000, problems);
  if (minSize > maxSize) problems.add("POOL_MIN", `must not exceed POOL_MAX (${maxSize})`);
  return {
    pool: {
      maxSize,
      minSize,
      maxAgeMs: integer(env, "POOL_MAX_AGE_MS", 30_000, 1000, MAX_POOL_AGE_MS, problems),
    },
    prompts: prompts(env, problems),
    transfer: transfer(env, problems),
    holdAfterMs: integer(env, "HOLD_AFTER_MS", 700, 0, 60_000, problems),
    drainMs: integer(env, "BRIDGE_DRAIN_MS", 90_000, 0, 600_000, problems),
  };
}

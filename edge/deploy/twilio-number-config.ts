/**
 * What `npm run twilio:configure` wants a Twilio phone number to look like, and how it reads its command
 * line: pure functions, no network (the shell is twilio-configure.ts).
 *
 * A number answers calls at the edge when its voice URL is `<edge>/voice` (POST) and nothing overrides
 * that URL: a voice application or a SIP trunk on the number makes Twilio ignore it, and a number in fax
 * mode never reaches it. Its status callback is `<edge>/status` (POST). The IncomingPhoneNumber resource
 * has no StatusCallbackEvent parameter (twilio 6.2's IncomingPhoneNumberContextUpdateOptions has none
 * either): for calls to a number, Twilio posts that callback when the call ends, with its final
 * CallStatus; progress events (initiated, ringing, answered) can only be subscribed per call (REST
 * Calls, <Dial><Number>), not on a number.
 */
import { parseArgs } from "node:util";
import { AppError } from "../../shared/errors.ts";

/** The settings compared and, when they differ, updated. Unset SIDs are "". */
export interface VoiceSettings {
  voiceUrl: string;
  voiceMethod: string;
  statusCallback: string;
  statusCallbackMethod: string;
  voiceApplicationSid: string;
  trunkSid: string;
  voiceReceiveMode: string;
}
export type SettingName = keyof VoiceSettings;

/** One number as the tool shows it. */
export interface PhoneNumberView extends VoiceSettings {
  sid: string;
  phoneNumber: string;
  friendlyName: string;
  voiceCapable: boolean;
}

/** Each setting's name in Twilio's JSON (what operators see in the console and the API). */
export const SETTING_FIELDS = {
  voiceUrl: "voice_url",
  voiceMethod: "voice_method",
  statusCallback: "status_callback",
  statusCallbackMethod: "status_callback_method",
  voiceApplicationSid: "voice_application_sid",
  trunkSid: "trunk_sid",
  voiceReceiveMode: "voice_receive_mode",
} as const satisfies Record<SettingName, string>;
const SETTING_NAMES = [
  "voiceUrl",
  "voiceMethod",
  "statusCallback",
  "statusCallbackMethod",
  "voiceApplicationSid",
  "trunkSid",
  "voiceReceiveMode",
] as const satisfies readonly SettingName[];

export function expectedVoiceSettings(edgeBaseUrl: string): VoiceSettings {
  return {
    voiceUrl: `${edgeBaseUrl}/voice`,
    voiceMethod: "POST",
    statusCallback: `${edgeBaseUrl}/status`,
    statusCallbackMethod: "POST",
    voiceApplicationSid: "",
    trunkSid: "",
    voiceReceiveMode: "voice",
  };
}

export interface SettingDiff {
  setting: SettingName;
  field: string;
  expected: string;
  actual: string;
  matches: boolean;
}

export function diffVoiceSettings(expected: VoiceSettings, actual: VoiceSettings): SettingDiff[] {
  return SETTING_NAMES.map((setting) => ({
    setting,
    field: SETTING_FIELDS[setting],
    expected: expected[setting],
    actual: actual[setting],
    matches: expected[setting] === actual[setting],
  }));
}

/** The update that makes the number match: only the settings that differ, with the expected values. */
export function voiceSettingsUpdate(diffs: readonly SettingDiff[]): Partial<VoiceSettings> {
  const update: Partial<VoiceSettings> = {};
  for (const diff of diffs) if (!diff.matches) update[diff.setting] = diff.expected;
  return update;
}

const shown = (value: string) => (value === "" ? "(unset)" : value);

/** A two-column comparison, one line per setting: `=` matches, `≠` differs. */
export function formatVoiceDiff(diffs: readonly SettingDiff[]): string[] {
  const width = Math.max(...diffs.map((diff) => diff.field.length));
  return diffs.map((diff) =>
    diff.matches
      ? `  = ${diff.field.padEnd(width)}  ${shown(diff.actual)}`
      : `  ≠ ${diff.field.padEnd(width)}  expected ${shown(diff.expected)}, is ${shown(diff.actual)}`,
  );
}

export function describeNumber(number: PhoneNumberView): string {
  const name =
    number.friendlyName && number.friendlyName !== number.phoneNumber ? ` "${number.friendlyName}"` : "";
  return `${number.phoneNumber} (${number.sid})${name}`;
}

/** A SID shown by its last four characters: enough to recognise, not to copy. */
export function maskSid(sid: string): string {
  return sid.length > 8 ? `${sid.slice(0, 2)}…${sid.slice(-4)}` : sid;
}

// ─── the command line ────────────────────────────────────────────────────────────────────────────────

export type NumberRef = { kind: "e164"; phoneNumber: string } | { kind: "sid"; sid: string };

export type TwilioCredentials =
  | { kind: "auth-token"; accountSid: string; authToken: string }
  | { kind: "api-key"; accountSid: string; apiKey: string; apiSecret: string };

export type ConfigureCommand =
  | { kind: "help" }
  | { kind: "list"; credentials: TwilioCredentials; edgeBaseUrl: string | null }
  | {
      kind: "configure" | "check";
      credentials: TwilioCredentials;
      number: NumberRef;
      edgeBaseUrl: string;
    };

export const USAGE = `npm run twilio:configure -- [options]

Points a Twilio phone number at the deployed edge: voice URL <edge>/voice (POST), status callback
<edge>/status (POST), no voice application or SIP trunk overriding them, voice (not fax) mode. Prints
what is set against what is expected, changes only what differs, then reads the number back.

  --number, -n <+E.164|PN…>   the number, by phone number or SID
  --edge, -e <https://…>      the edge's public origin (default: PUBLIC_BASE_URL)
  --check                     compare only; exit 1 when something differs
  --list                      list the account's numbers and where their calls go
  --help, -h

Twilio posts a phone number's status callback when each call ends (with its final CallStatus); a number
has no per-event subscription (initiated/ringing/answered are options of a call, not of a number).

Credentials: TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN, or with an API key TWILIO_API_KEY and
TWILIO_API_SECRET (used when set).`;

const E164 = /^\+[1-9]\d{6,14}$/;
const NUMBER_SID = /^PN[0-9a-fA-F]{32}$/;
const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
const API_KEY_SID = /^SK[0-9a-fA-F]{32}$/;

export function parseNumberRef(text: string): NumberRef {
  const value = text.trim().replace(/[\s().-]/g, "");
  if (NUMBER_SID.test(value)) return { kind: "sid", sid: value };
  if (E164.test(value)) return { kind: "e164", phoneNumber: value };
  throw new AppError(
    "bad_config",
    `--number must be an E.164 number (+14155550100) or a PN… SID, got "${text}"`,
  );
}

/** The edge's public origin: https, no path, no query; as the edge's PUBLIC_BASE_URL must be. */
export function parseEdgeBaseUrl(text: string, source: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new AppError("bad_config", `${source} is not a URL: "${text}"`);
  }
  if (url.protocol !== "https:") {
    throw new AppError(
      "bad_config",
      `${source} must be https (Twilio calls the edge over the internet), got "${text}"`,
    );
  }
  if (url.pathname !== "/" || url.search !== "" || url.hash !== "" || url.username !== "") {
    throw new AppError(
      "bad_config",
      `${source} must be an origin (https://host[:port]) without path or query`,
    );
  }
  return text.trim().replace(/\/+$/, "");
}

export function parseTwilioCredentials(env: Readonly<Record<string, string | undefined>>): TwilioCredentials {
  const read = (name: string) => env[name]?.trim() || undefined;
  const accountSid = read("TWILIO_ACCOUNT_SID");
  const authToken = read("TWILIO_AUTH_TOKEN");
  const apiKey = read("TWILIO_API_KEY");
  const apiSecret = read("TWILIO_API_SECRET");
  const problems: string[] = [];
  if (!accountSid) problems.push("TWILIO_ACCOUNT_SID is missing");
  else if (!ACCOUNT_SID.test(accountSid))
    problems.push("TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits");
  if (apiKey || apiSecret) {
    if (!apiKey || !API_KEY_SID.test(apiKey))
      problems.push("TWILIO_API_KEY must be SK followed by 32 hex digits");
    if (!apiSecret) problems.push("TWILIO_API_SECRET is missing (it goes with TWILIO_API_KEY)");
  } else if (!authToken) {
    problems.push("set TWILIO_AUTH_TOKEN, or TWILIO_API_KEY and TWILIO_API_SECRET");
  }
  if (problems.length > 0 || !accountSid) {
    throw new AppError("bad_config", `Twilio credentials: ${problems.join("; ")}`);
  }
  if (apiKey && apiSecret) return { kind: "api-key", accountSid, apiKey, apiSecret };
  return { kind: "auth-token", accountSid, authToken: authToken ?? "" };
}

export function parseConfigureCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ConfigureCommand {
  let values: { number?: string; edge?: string; check?: boolean; list?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        number: { type: "string", short: "n" },
        edge: { type: "string", short: "e" },
        check: { type: "boolean" },
        list: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (cause) {
    throw new AppError(
      "bad_config",
      `${cause instanceof Error ? cause.message : String(cause)}\n\n${USAGE}`,
      {
        cause,
      },
    );
  }
  if (values.help) return { kind: "help" };
  const edgeText = values.edge ?? env.PUBLIC_BASE_URL;
  const edgeSource = values.edge !== undefined ? "--edge" : "PUBLIC_BASE_URL";
  if (values.list) {
    if (values.number !== undefined || values.check)
      throw new AppError("bad_config", "--list takes no --number or --check");
    return {
      kind: "list",
      credentials: parseTwilioCredentials(env),
      edgeBaseUrl: edgeText ? parseEdgeBaseUrl(edgeText, edgeSource) : null,
    };
  }
  if (values.number === undefined) throw new AppError("bad_config", `--number is required\n\n${USAGE}`);
  if (!edgeText) throw new AppError("bad_config", "give the edge's origin with --edge or PUBLIC_BASE_URL");
  return {
    kind: values.check ? "check" : "configure",
    number: parseNumberRef(values.number),
    edgeBaseUrl: parseEdgeBaseUrl(edgeText, edgeSource),
    credentials: parseTwilioCredentials(env),
  };
}

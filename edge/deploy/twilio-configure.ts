/**
 * `npm run twilio:configure`: points a Twilio phone number at the deployed edge, through the `twilio`
 * package (see twilio-number-config.ts for what is set and why, and USAGE for the options).
 *
 * Prints phone numbers and settings (an operator tool), never a token or secret. Exit codes: 0 done or
 * already right, 1 differences remain (--check, or Twilio did not apply an update), 2 bad command line
 * or environment, 3 Twilio refused (credentials, unknown number) or could not be reached.
 */
import twilio from "twilio";
import type RequestClient from "twilio/lib/base/RequestClient.js";
import type {
  IncomingPhoneNumberContextUpdateOptions,
  IncomingPhoneNumberInstance,
} from "twilio/lib/rest/api/v2010/account/incomingPhoneNumber.js";
import { AppError, describeError } from "../../shared/errors.ts";
import {
  type ConfigureCommand,
  describeNumber,
  diffVoiceSettings,
  expectedVoiceSettings,
  formatVoiceDiff,
  maskSid,
  type NumberRef,
  type PhoneNumberView,
  parseConfigureCommand,
  type TwilioCredentials,
  USAGE,
  type VoiceSettings,
  voiceSettingsUpdate,
} from "./twilio-number-config.ts";

export const EXIT = { ok: 0, differs: 1, usage: 2, twilio: 3 } as const;

export interface ConfigureIo {
  out(line: string): void;
  err(line: string): void;
}

export interface ConfigureOptions {
  /**
   * Sends every REST request to this origin instead of Twilio's (path and query unchanged): for a stand-in
   * of Twilio's API in tests, or an egress proxy. Not read from the environment.
   */
  apiBaseUrl?: string;
}

/** Twilio's own HTTP client (auth, form encoding, errors), with the request's origin swapped. */
class RebasedRequestClient extends twilio.RequestClient {
  readonly #origin: string;
  constructor(origin: string) {
    super({ timeout: 15_000 });
    this.#origin = new URL(origin).origin;
  }
  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const target = new URL(opts.uri);
    return super.request<TData>({ ...opts, uri: `${this.#origin}${target.pathname}${target.search}` });
  }
}

function createClient(credentials: TwilioCredentials, options: ConfigureOptions): twilio.Twilio {
  const httpClient = options.apiBaseUrl ? new RebasedRequestClient(options.apiBaseUrl) : undefined;
  const common = { timeout: 15_000, ...(httpClient ? { httpClient } : {}) };
  return credentials.kind === "api-key"
    ? twilio(credentials.apiKey, credentials.apiSecret, { ...common, accountSid: credentials.accountSid })
    : twilio(credentials.accountSid, credentials.authToken, common);
}

function view(number: IncomingPhoneNumberInstance): PhoneNumberView {
  return {
    sid: number.sid,
    phoneNumber: number.phoneNumber,
    friendlyName: number.friendlyName ?? "",
    voiceCapable: number.capabilities?.voice === true,
    voiceUrl: number.voiceUrl ?? "",
    voiceMethod: number.voiceMethod ?? "",
    statusCallback: number.statusCallback ?? "",
    statusCallbackMethod: number.statusCallbackMethod ?? "",
    voiceApplicationSid: number.voiceApplicationSid ?? "",
    trunkSid: number.trunkSid ?? "",
    voiceReceiveMode: number.voiceReceiveMode ?? "",
  };
}

/** The update in the twilio package's option names (each maps to the REST parameter of the same name). */
function updateOptions(update: Partial<VoiceSettings>): IncomingPhoneNumberContextUpdateOptions {
  const { voiceReceiveMode, ...rest } = update;
  if (voiceReceiveMode !== undefined && voiceReceiveMode !== "voice" && voiceReceiveMode !== "fax") {
    throw new AppError("internal", `unexpected voice receive mode "${voiceReceiveMode}"`);
  }
  return {
    ...rest,
    ...(voiceReceiveMode ? { voiceReceiveMode } : {}),
  } satisfies IncomingPhoneNumberContextUpdateOptions;
}

/** A Twilio REST error (legacy or RFC 9457 shape) as a coded error with a message an operator can act on. */
function twilioError(error: unknown, credentials: TwilioCredentials, what: string): AppError {
  const status = typeof error === "object" && error !== null && "status" in error ? error.status : undefined;
  const code = typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  if (status === 401 || code === 20003) {
    const names =
      credentials.kind === "api-key"
        ? "TWILIO_ACCOUNT_SID, TWILIO_API_KEY and TWILIO_API_SECRET"
        : "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN";
    return new AppError("twilio_api", `Twilio refused the credentials (20003 Authenticate): check ${names}`, {
      cause: error,
    });
  }
  if (status === 404 || code === 20404) {
    return new AppError(
      "twilio_api",
      `${what}: not found on account ${maskSid(credentials.accountSid)} (20404)`,
      {
        cause: error,
      },
    );
  }
  if (typeof status === "number") {
    return new AppError(
      "twilio_api",
      `${what}: Twilio answered HTTP ${status}${code ? ` (${code})` : ""}: ${message}`,
      {
        cause: error,
      },
    );
  }
  return new AppError("twilio_api", `${what}: cannot reach Twilio's API (${describeError(error)})`, {
    cause: error,
  });
}

async function findNumber(client: twilio.Twilio, ref: NumberRef): Promise<IncomingPhoneNumberInstance> {
  if (ref.kind === "sid") return client.incomingPhoneNumbers(ref.sid).fetch();
  const matches = await client.incomingPhoneNumbers.list({ phoneNumber: ref.phoneNumber, limit: 20 });
  const exact = matches.find((number) => number.phoneNumber === ref.phoneNumber);
  if (!exact) {
    throw new AppError("twilio_api", `${ref.phoneNumber} is not a phone number of this account`);
  }
  return exact;
}

async function list(client: twilio.Twilio, edgeBaseUrl: string | null, io: ConfigureIo): Promise<number> {
  const numbers = (await client.incomingPhoneNumbers.list({ pageSize: 100 })).map(view);
  const expected = edgeBaseUrl ? expectedVoiceSettings(edgeBaseUrl) : null;
  io.out(`${numbers.length} phone number(s):`);
  for (const number of numbers) {
    const atEdge =
      expected && diffVoiceSettings(expected, number).every((diff) => diff.matches) ? "  [this edge]" : "";
    const target = number.voiceApplicationSid
      ? `application ${number.voiceApplicationSid}`
      : number.trunkSid
        ? `SIP trunk ${number.trunkSid}`
        : `${number.voiceMethod || "POST"} ${number.voiceUrl || "(no voice URL)"}`;
    io.out(`  ${describeNumber(number)}  →  ${target}${number.voiceCapable ? "" : "  (no voice)"}${atEdge}`);
  }
  return EXIT.ok;
}

async function configure(
  client: twilio.Twilio,
  command: Extract<ConfigureCommand, { kind: "configure" | "check" }>,
  io: ConfigureIo,
): Promise<number> {
  const what = command.number.kind === "sid" ? command.number.sid : command.number.phoneNumber;
  const before = view(
    await findNumber(client, command.number).catch((e) => rethrow(e, command.credentials, what)),
  );
  if (!before.voiceCapable)
    throw new AppError("twilio_api", `${describeNumber(before)} cannot receive voice calls`);
  const expected = expectedVoiceSettings(command.edgeBaseUrl);
  const diffs = diffVoiceSettings(expected, before);
  io.out(`${describeNumber(before)} against the edge ${command.edgeBaseUrl}:`);
  for (const line of formatVoiceDiff(diffs)) io.out(line);
  const update = voiceSettingsUpdate(diffs);
  if (Object.keys(update).length === 0) {
    io.out("Already configured: nothing to change.");
    return EXIT.ok;
  }
  if (command.kind === "check") {
    io.out(`${Object.keys(update).length} setting(s) differ (run without --check to change them).`);
    return EXIT.differs;
  }
  io.out(`Updating ${Object.keys(update).length} setting(s)…`);
  await client
    .incomingPhoneNumbers(before.sid)
    .update(updateOptions(update))
    .catch((e) => rethrow(e, command.credentials, what));
  const after = view(
    await client
      .incomingPhoneNumbers(before.sid)
      .fetch()
      .catch((e) => rethrow(e, command.credentials, what)),
  );
  const afterDiffs = diffVoiceSettings(expected, after);
  io.out("Read back from Twilio:");
  for (const line of formatVoiceDiff(afterDiffs)) io.out(line);
  if (afterDiffs.some((diff) => !diff.matches)) {
    io.err("Twilio did not apply every change: see the ≠ lines above.");
    return EXIT.differs;
  }
  io.out(`Done: calls to ${after.phoneNumber} now go to ${expected.voiceUrl}.`);
  return EXIT.ok;
}

function rethrow(error: unknown, credentials: TwilioCredentials, what: string): never {
  if (error instanceof AppError) throw error;
  throw twilioError(error, credentials, what);
}

export async function runTwilioConfigure(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: ConfigureIo,
  options: ConfigureOptions = {},
): Promise<number> {
  let command: ConfigureCommand;
  try {
    command = parseConfigureCommand(argv, env);
  } catch (error) {
    io.err(error instanceof Error ? error.message : String(error));
    return EXIT.usage;
  }
  if (command.kind === "help") {
    io.out(USAGE);
    return EXIT.ok;
  }
  const { credentials } = command;
  const client = createClient(credentials, options);
  io.out(
    `Twilio account ${maskSid(credentials.accountSid)} ` +
      `(${credentials.kind === "api-key" ? `API key ${maskSid(credentials.apiKey)}` : "auth token"})`,
  );
  try {
    if (command.kind === "list")
      return await list(client, command.edgeBaseUrl, io).catch((e) =>
        rethrow(e, credentials, "listing phone numbers"),
      );
    return await configure(client, command, io);
  } catch (error) {
    io.err(error instanceof AppError ? error.message : describeError(error));
    return EXIT.twilio;
  }
}

if (import.meta.main) {
  const code = await runTwilioConfigure(process.argv.slice(2), process.env, {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  });
  process.exitCode = code;
}

/**
 * A stand-in for Twilio's REST API (2010-04-01), IncomingPhoneNumbers only, for the tests of
 * `npm run twilio:configure`. It behaves as Twilio's documented API does where the tool depends on it:
 *   GET  /2010-04-01/Accounts/{AC}/IncomingPhoneNumbers.json   list; PhoneNumber filter (partial, * = digit),
 *                                                              PageSize 1-1000, Page, next_page_uri paging
 *   GET  /2010-04-01/Accounts/{AC}/IncomingPhoneNumbers/{PN}.json   fetch
 *   POST /2010-04-01/Accounts/{AC}/IncomingPhoneNumbers/{PN}.json   update (form-encoded)
 * HTTP Basic auth with the account SID and auth token, or an API key SID and secret of that account:
 * anything else is 401 with code 20003; an unknown SID or path is 404 with code 20404; an invalid URL is
 * 400/21402, an invalid method (not GET or POST) 400/21403. Error bodies have Twilio's legacy shape
 * {code, message, more_info, status}.
 * Stricter than Twilio on purpose: an unknown or repeated parameter name is rejected (400/20001) where
 * Twilio would ignore it, so that a misspelled parameter fails the test instead of silently changing
 * nothing. Every request is recorded (method, path, query, form, who authenticated).
 */
import type { IncomingMessage } from "node:http";
import { API_BASE, ApiError, basicCredentials, checkNames, readBody, serveStandIn } from "./rest-plumbing.ts";

export interface StandInNumber {
  sid: string;
  phoneNumber: string;
  friendlyName: string;
  voiceUrl: string | null;
  voiceMethod: string;
  voiceFallbackUrl: string | null;
  voiceFallbackMethod: string;
  statusCallback: string | null;
  statusCallbackMethod: string;
  voiceApplicationSid: string | null;
  trunkSid: string | null;
  voiceReceiveMode: "voice" | "fax";
  voiceCapable: boolean;
}

export interface StandInAccount {
  accountSid: string;
  authToken: string;
  /** API key SID (SK…) -> secret. */
  apiKeys: Record<string, string>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Array<[string, string]>;
  form: Array<[string, string]>;
  /** The Basic auth user that was accepted, or null when refused. */
  authenticatedAs: string | null;
  status: number;
}

export interface TwilioApiStandIn {
  url: string;
  readonly requests: readonly RecordedRequest[];
  number(sid: string): StandInNumber | undefined;
  close(): Promise<void>;
}

/** The IncomingPhoneNumber update parameters Twilio documents. */
const UPDATE_PARAMS = new Set([
  "AccountSid",
  "ApiVersion",
  "FriendlyName",
  "SmsApplicationSid",
  "SmsFallbackMethod",
  "SmsFallbackUrl",
  "SmsMethod",
  "SmsUrl",
  "StatusCallback",
  "StatusCallbackMethod",
  "VoiceApplicationSid",
  "VoiceCallerIdLookup",
  "VoiceFallbackMethod",
  "VoiceFallbackUrl",
  "VoiceMethod",
  "VoiceUrl",
  "EmergencyStatus",
  "EmergencyAddressSid",
  "TrunkSid",
  "VoiceReceiveMode",
  "IdentitySid",
  "AddressSid",
  "BundleSid",
]);
const LIST_PARAMS = new Set([
  "Beta",
  "FriendlyName",
  "PhoneNumber",
  "Origin",
  "PageSize",
  "Page",
  "PageToken",
]);
const URL_PARAMS = ["VoiceUrl", "VoiceFallbackUrl", "StatusCallback", "SmsUrl", "SmsFallbackUrl"];
const METHOD_PARAMS = [
  "VoiceMethod",
  "VoiceFallbackMethod",
  "StatusCallbackMethod",
  "SmsMethod",
  "SmsFallbackMethod",
];
function rfc2822(date: Date): string {
  return date.toUTCString().replace("GMT", "+0000");
}

function numberJson(accountSid: string, number: StandInNumber, updated: Date) {
  const uri = `${API_BASE}${accountSid}/IncomingPhoneNumbers/${number.sid}.json`;
  return {
    account_sid: accountSid,
    address_requirements: "none",
    address_sid: null,
    api_version: "2010-04-01",
    beta: false,
    bundle_sid: null,
    capabilities: { voice: number.voiceCapable, sms: true, mms: true, fax: false },
    date_created: rfc2822(new Date(Date.UTC(2024, 0, 2, 3, 4, 5))),
    date_updated: rfc2822(updated),
    emergency_address_sid: null,
    emergency_address_status: "unregistered",
    emergency_status: "Inactive",
    friendly_name: number.friendlyName,
    identity_sid: null,
    origin: "twilio",
    phone_number: number.phoneNumber,
    sid: number.sid,
    sms_application_sid: "",
    sms_fallback_method: "POST",
    sms_fallback_url: "",
    sms_method: "POST",
    sms_url: "",
    status: "in-use",
    status_callback: number.statusCallback ?? "",
    status_callback_method: number.statusCallbackMethod,
    subresource_uris: { assigned_add_ons: uri.replace(".json", "/AssignedAddOns.json") },
    trunk_sid: number.trunkSid,
    uri,
    voice_application_sid: number.voiceApplicationSid ?? "",
    voice_caller_id_lookup: false,
    voice_fallback_method: number.voiceFallbackMethod,
    voice_fallback_url: number.voiceFallbackUrl,
    voice_method: number.voiceMethod,
    voice_receive_mode: number.voiceReceiveMode,
    voice_url: number.voiceUrl,
  };
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "https:" || url.protocol === "http:") && url.hostname !== "";
  } catch {
    return false;
  }
}

export async function startTwilioApiStandIn(options: {
  account: StandInAccount;
  numbers: StandInNumber[];
}): Promise<TwilioApiStandIn> {
  const { account } = options;
  const numbers = new Map(options.numbers.map((number) => [number.sid, { ...number }]));
  const updatedAt = new Map<string, Date>();
  const requests: RecordedRequest[] = [];

  const authenticate = (request: IncomingMessage, pathAccount: string): string => {
    const { user, password } = basicCredentials(request);
    const valid =
      pathAccount === account.accountSid &&
      ((user === account.accountSid && password === account.authToken) ||
        (user in account.apiKeys && account.apiKeys[user] === password));
    if (!valid) throw new ApiError(401, 20003, "Authenticate");
    return user;
  };

  const handle = async (
    request: IncomingMessage,
    record: RecordedRequest,
  ): Promise<{ status: number; body: unknown }> => {
    const url = new URL(request.url ?? "/", "http://stand-in");
    record.query = [...url.searchParams.entries()];
    if (!url.pathname.startsWith(API_BASE)) {
      throw new ApiError(404, 20404, `The requested resource ${url.pathname} was not found`);
    }
    const [pathAccount = "", ...rest] = url.pathname.slice(API_BASE.length).split("/");
    record.authenticatedAs = authenticate(request, pathAccount);
    const resource = rest.join("/");

    if (resource === "IncomingPhoneNumbers.json" && request.method === "GET") {
      checkNames(record.query, LIST_PARAMS);
      const pageSize = Number(url.searchParams.get("PageSize") ?? "50");
      const page = Number(url.searchParams.get("Page") ?? "0");
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
        throw new ApiError(400, 20001, "PageSize must be from 1 to 1000");
      }
      if (!Number.isInteger(page) || page < 0) throw new ApiError(400, 20001, "Page must be 0 or more");
      const filter = url.searchParams.get("PhoneNumber");
      const pattern =
        filter === null ? null : new RegExp(filter.replace(/[+]/g, "\\+").replace(/\*/g, "\\d"));
      const matching = [...numbers.values()].filter((number) => !pattern || pattern.test(number.phoneNumber));
      const slice = matching.slice(page * pageSize, (page + 1) * pageSize);
      const base = `${API_BASE}${account.accountSid}/IncomingPhoneNumbers.json`;
      const pageUri = (n: number) => {
        const query = new URLSearchParams(filter === null ? {} : { PhoneNumber: filter });
        query.set("PageSize", String(pageSize));
        query.set("Page", String(n));
        if (n > 0) query.set("PageToken", `PA${n}`);
        return `${base}?${query}`;
      };
      const hasNext = (page + 1) * pageSize < matching.length;
      return {
        status: 200,
        body: {
          end: page * pageSize + Math.max(slice.length - 1, 0),
          first_page_uri: pageUri(0),
          incoming_phone_numbers: slice.map((n) =>
            numberJson(account.accountSid, n, updatedAt.get(n.sid) ?? new Date(0)),
          ),
          next_page_uri: hasNext ? pageUri(page + 1) : null,
          page,
          page_size: pageSize,
          previous_page_uri: page > 0 ? pageUri(page - 1) : null,
          start: page * pageSize,
          uri: pageUri(page),
        },
      };
    }

    const instance = /^IncomingPhoneNumbers\/(PN[0-9a-fA-F]{32})\.json$/.exec(resource);
    const number = instance ? numbers.get(instance[1]!) : undefined;
    if (!instance || !number || (request.method !== "GET" && request.method !== "POST")) {
      throw new ApiError(404, 20404, `The requested resource ${url.pathname} was not found`);
    }
    if (request.method === "POST") {
      if (!(request.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
        throw new ApiError(400, 20001, "expected a form-encoded body");
      }
      record.form = [...new URLSearchParams(await readBody(request)).entries()];
      checkNames(record.form, UPDATE_PARAMS);
      const form = new Map(record.form);
      for (const name of URL_PARAMS) {
        const value = form.get(name);
        if (value !== undefined && value !== "" && !isHttpUrl(value)) {
          throw new ApiError(400, 21402, `${name} is not a valid URL: ${value}`);
        }
      }
      for (const name of METHOD_PARAMS) {
        const value = form.get(name);
        if (value !== undefined && value !== "GET" && value !== "POST") {
          throw new ApiError(400, 21403, `${name} must be GET or POST, got ${value}`);
        }
      }
      const application = form.get("VoiceApplicationSid");
      if (application !== undefined && application !== "" && !/^AP[0-9a-fA-F]{32}$/.test(application)) {
        throw new ApiError(400, 20001, `VoiceApplicationSid is not an application SID: ${application}`);
      }
      const trunk = form.get("TrunkSid");
      if (trunk !== undefined && trunk !== "" && !/^TK[0-9a-fA-F]{32}$/.test(trunk)) {
        throw new ApiError(400, 20001, `TrunkSid is not a trunk SID: ${trunk}`);
      }
      const mode = form.get("VoiceReceiveMode");
      if (mode !== undefined && mode !== "voice" && mode !== "fax") {
        throw new ApiError(400, 20001, `VoiceReceiveMode must be voice or fax, got ${mode}`);
      }
      const text = (name: string) => form.get(name);
      number.voiceUrl = text("VoiceUrl") ?? number.voiceUrl;
      number.voiceMethod = text("VoiceMethod") ?? number.voiceMethod;
      number.voiceFallbackUrl = text("VoiceFallbackUrl") ?? number.voiceFallbackUrl;
      number.voiceFallbackMethod = text("VoiceFallbackMethod") ?? number.voiceFallbackMethod;
      number.statusCallback = text("StatusCallback") ?? number.statusCallback;
      number.statusCallbackMethod = text("StatusCallbackMethod") ?? number.statusCallbackMethod;
      number.friendlyName = text("FriendlyName") ?? number.friendlyName;
      if (mode === "voice" || mode === "fax") number.voiceReceiveMode = mode;
      // An application and a trunk exclude each other: setting one clears the other.
      if (application !== undefined) {
        number.voiceApplicationSid = application === "" ? null : application;
        if (application !== "") number.trunkSid = null;
      }
      if (trunk !== undefined) {
        number.trunkSid = trunk === "" ? null : trunk;
        if (trunk !== "") number.voiceApplicationSid = null;
      }
      updatedAt.set(number.sid, new Date());
    } else {
      checkNames(record.query, new Set());
    }
    return {
      status: 200,
      body: numberJson(account.accountSid, number, updatedAt.get(number.sid) ?? new Date(0)),
    };
  };

  const recordOf = new WeakMap<IncomingMessage, RecordedRequest>();
  const server = await serveStandIn(
    async (request) => {
      const record: RecordedRequest = {
        method: request.method ?? "",
        path: new URL(request.url ?? "/", "http://stand-in").pathname,
        query: [],
        form: [],
        authenticatedAs: null,
        status: 0,
      };
      requests.push(record);
      recordOf.set(request, record);
      return handle(request, record);
    },
    (request, status) => {
      const record = recordOf.get(request);
      if (record) record.status = status;
    },
  );
  return {
    url: server.url,
    requests,
    number: (sid) => {
      const number = numbers.get(sid);
      return number ? { ...number } : undefined;
    },
    close: () => server.close(),
  };
}

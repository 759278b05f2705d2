/**
 * A stand-in for Twilio's REST API (2010-04-01), the Calls update endpoint only, for the tests of call
 * control (transfer) through the `twilio` package:
 *   POST /2010-04-01/Accounts/{AC}/Calls/{CA}.json   form-encoded Url | Twiml | Status (+ documented extras)
 * HTTP Basic auth with the account SID and auth token: anything else is 401/20003; an unknown call or path
 * is 404/20404; a call that is no longer in progress cannot be redirected (400/21220); an update without
 * Url, Twiml or Status, TwiML that is not a <Response> document, or an unknown or repeated parameter is
 * 400/20001 (stricter than Twilio, which ignores unknown names, so that a misspelling fails the test).
 * Error bodies have Twilio's shape {code, message, more_info, status}; a success returns the Call resource.
 * A redirect ends the call's media stream at Twilio: `onRedirect` lets a test act that out.
 */
import type { IncomingMessage } from "node:http";
import { API_BASE, ApiError, basicCredentials, checkNames, readBody, serveStandIn } from "./rest-plumbing.ts";

export interface StandInCall {
  sid: string;
  from: string;
  to: string;
  status: "in-progress" | "completed" | "canceled";
}

export interface CallUpdate {
  callSid: string;
  form: Array<[string, string]>;
  /** The Basic auth user accepted, or null when refused. */
  authenticatedAs: string | null;
  status: number;
}

export interface TwilioCallsStandIn {
  url: string;
  readonly updates: readonly CallUpdate[];
  addCall(call: StandInCall): void;
  call(sid: string): StandInCall | undefined;
  close(): Promise<void>;
}

const UPDATE_PARAMS = new Set([
  "Url",
  "Method",
  "Status",
  "FallbackUrl",
  "FallbackMethod",
  "StatusCallback",
  "StatusCallbackMethod",
  "Twiml",
  "TimeLimit",
]);
export async function startTwilioCallsStandIn(options: {
  accountSid: string;
  authToken: string;
  calls?: StandInCall[];
  /** Twilio redirected the call (it leaves the media stream and runs the new TwiML). */
  onRedirect?: (callSid: string, form: ReadonlyMap<string, string>) => void;
}): Promise<TwilioCallsStandIn> {
  const calls = new Map((options.calls ?? []).map((call) => [call.sid, { ...call }]));
  const updates: CallUpdate[] = [];

  const handle = async (request: IncomingMessage, update: CallUpdate): Promise<unknown> => {
    const path = new URL(request.url ?? "/", "http://stand-in").pathname;
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls\/([^/]+)\.json$/.exec(path);
    if (!match || request.method !== "POST") {
      throw new ApiError(404, 20404, `The requested resource ${path} was not found`);
    }
    const [, accountSid = "", callSid = ""] = match;
    const { user, password } = basicCredentials(request);
    if (accountSid !== options.accountSid || user !== options.accountSid || password !== options.authToken) {
      throw new ApiError(401, 20003, "Authenticate");
    }
    update.authenticatedAs = user;
    update.callSid = callSid;
    const call = calls.get(callSid);
    if (!call) throw new ApiError(404, 20404, `The requested resource ${path} was not found`);
    if (!(request.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
      throw new ApiError(400, 20001, "expected a form-encoded body");
    }
    update.form = [...new URLSearchParams(await readBody(request)).entries()];
    checkNames(update.form, UPDATE_PARAMS);
    const form = new Map(update.form);
    const twiml = form.get("Twiml");
    const status = form.get("Status");
    if (twiml === undefined && form.get("Url") === undefined && status === undefined) {
      throw new ApiError(400, 20001, "Url, Twiml or Status is required");
    }
    if (twiml !== undefined && !/^(<\?xml[^>]*\?>)?\s*<Response>[\s\S]*<\/Response>\s*$/.test(twiml)) {
      throw new ApiError(400, 20001, "Twiml is not a <Response> document");
    }
    if (status !== undefined && status !== "completed" && status !== "canceled") {
      throw new ApiError(400, 20001, `Status must be completed or canceled, got ${status}`);
    }
    if (call.status !== "in-progress")
      throw new ApiError(400, 21220, "Call is not in-progress. Cannot redirect.");
    if (status !== undefined) call.status = status === "completed" ? "completed" : "canceled";
    else options.onRedirect?.(callSid, form);
    return {
      account_sid: accountSid,
      api_version: "2010-04-01",
      direction: "inbound",
      from: call.from,
      sid: call.sid,
      status: call.status,
      to: call.to,
      uri: `${API_BASE}${accountSid}/Calls/${call.sid}.json`,
    };
  };

  const updateOf = new WeakMap<IncomingMessage, CallUpdate>();
  const server = await serveStandIn(
    async (request) => {
      const update: CallUpdate = { callSid: "", form: [], authenticatedAs: null, status: 0 };
      updates.push(update);
      updateOf.set(request, update);
      return { body: await handle(request, update) };
    },
    (request, status) => {
      const update = updateOf.get(request);
      if (update) update.status = status;
    },
  );
  return {
    url: server.url,
    updates,
    addCall: (call) => calls.set(call.sid, { ...call }),
    call: (sid) => {
      const call = calls.get(sid);
      return call ? { ...call } : undefined;
    },
    close: () => server.close(),
  };
}

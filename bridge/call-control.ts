/**
 * Controlling a live call through Twilio's REST API with the `twilio` package: `calls(sid).update` with new
 * TwiML redirects the call (a transfer: `<Dial>` to a number; Twilio then ends the media stream). The
 * package's own HTTP client does the work (Basic auth, form encoding, RestException on errors); with
 * `apiBaseUrl` its requests go to another origin, path and query unchanged (a stand-in of Twilio's API
 * in tests, or an egress proxy).
 */
import twilio from "twilio";
import type RequestClient from "twilio/lib/base/RequestClient.js";
import { AppError } from "../shared/errors.ts";

export interface CallControl {
  /** Replaces the call's TwiML (Twilio leaves the media stream and runs it). */
  redirect(callSid: string, twiml: string): Promise<void>;
}

export interface TwilioCallControlOptions {
  accountSid: string;
  authToken: string;
  /** Origin to send requests to instead of https://api.twilio.com; null for Twilio's own. */
  apiBaseUrl: string | null;
  timeoutMs?: number;
}

/** Twilio's HTTP client with the request's origin swapped. */
class RebasedRequestClient extends twilio.RequestClient {
  readonly #origin: string;

  constructor(origin: string, timeoutMs: number) {
    super({ timeout: timeoutMs });
    this.#origin = new URL(origin).origin;
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const target = new URL(opts.uri);
    return super.request<TData>({ ...opts, uri: `${this.#origin}${target.pathname}${target.search}` });
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;

export function twilioCallControl(options: TwilioCallControlOptions): CallControl {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const httpClient = options.apiBaseUrl ? new RebasedRequestClient(options.apiBaseUrl, timeoutMs) : undefined;
  const client = twilio(options.accountSid, options.authToken, {
    timeout: timeoutMs,
    ...(httpClient ? { httpClient } : {}),
  });
  return {
    async redirect(callSid, twiml) {
      try {
        await client.calls(callSid).update({ twiml });
      } catch (cause) {
        throw new AppError("twilio_api", `Twilio did not redirect the call: ${describeTwilioError(cause)}`, {
          cause,
        });
      }
    },
  };
}

function describeTwilioError(error: unknown): string {
  if (error instanceof twilio.RestException) {
    return `HTTP ${error.status}, code ${error.code ?? "none"}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** TwiML that connects the caller to `number` (a transfer). */
export function dialTwiml(number: string, options: { timeoutS?: number } = {}): string {
  const response = new twilio.twiml.VoiceResponse();
  response.dial({ timeout: options.timeoutS ?? 30 }, number);
  return response.toString();
}

/**
 * Twilio's webhook requests as the edge sees them: the public URL Twilio signed (rebuilt from
 * PUBLIC_BASE_URL, since proxies change scheme, host or port), the form parameters, the signature check.
 */
import type { EdgeConfig } from "./config.ts";
import { formParams, isValidTwilioSignature, type SignedParams } from "./twilio-signature.ts";

export const MAX_WEBHOOK_BODY_CHARS = 64 * 1024;
export const SIGNATURE_HEADER = "X-Twilio-Signature";

/** Path and query exactly as received (no URL re-encoding): `/voice?x=1`. */
export function pathAndQuery(requestUrl: string): string {
  const afterScheme = requestUrl.indexOf("://");
  const pathStart = requestUrl.indexOf("/", afterScheme === -1 ? 0 : afterScheme + 3);
  if (pathStart === -1) return "/";
  const hash = requestUrl.indexOf("#", pathStart);
  return requestUrl.slice(pathStart, hash === -1 ? undefined : hash);
}

/** The URL Twilio requested: PUBLIC_BASE_URL + path + query as received. */
export function publicHttpUrl(config: EdgeConfig, requestUrl: string): string {
  return config.publicBaseUrl + pathAndQuery(requestUrl);
}

/** The WebSocket URL as written in our TwiML (wss:// or ws://, no query). */
export function publicWsUrl(config: EdgeConfig, requestUrl: string): string {
  const path = pathAndQuery(requestUrl);
  const query = path.indexOf("?");
  return config.publicWsBaseUrl + (query === -1 ? path : path.slice(0, query));
}

export type SignedForm = { valid: true; params: SignedParams } | { valid: false; reason: string };

/** Reads a form-encoded webhook and checks its X-Twilio-Signature against the public URL. */
export async function readSignedForm(request: Request, config: EdgeConfig): Promise<SignedForm> {
  const signature = request.headers.get(SIGNATURE_HEADER);
  if (!signature) return { valid: false, reason: "no signature" };
  const declaredLength = Number(request.headers.get("content-length") ?? "0");
  if (declaredLength > MAX_WEBHOOK_BODY_CHARS) return { valid: false, reason: "body too large" };
  // Bytes, then UTF-8: Request.text() on a form body makes workerd warn.
  const body = new TextDecoder().decode(await request.arrayBuffer());
  if (body.length > MAX_WEBHOOK_BODY_CHARS) return { valid: false, reason: "body too large" };
  const params = formParams(body);
  const url = publicHttpUrl(config, request.url);
  const valid = await isValidTwilioSignature(config.twilioAuthToken, signature, url, params);
  return valid ? { valid: true, params } : { valid: false, reason: "signature does not match" };
}

/** The signature check of the media WebSocket upgrade: over the ws(s) URL, with no parameters. */
export function isSignedUpgrade(request: Request, config: EdgeConfig): Promise<boolean> {
  const url = publicWsUrl(config, request.url);
  return isValidTwilioSignature(
    config.twilioAuthToken,
    request.headers.get(SIGNATURE_HEADER),
    url,
    new Map(),
  );
}

export function firstParam(params: SignedParams, name: string): string | null {
  return params.get(name)?.[0] ?? null;
}

export const CALL_SID = /^CA[0-9a-fA-F]{32}$/;

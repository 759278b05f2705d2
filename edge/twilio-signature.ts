/**
 * X-Twilio-Signature: base64(HMAC-SHA1(authToken, url + every POST parameter as name+value, sorted by
 * name)), computed with WebCrypto. Mirrors the `twilio` package's validateRequest: the URL is tried as
 * given, without its port and with the scheme's default port, since Twilio may sign either form.
 * https://www.twilio.com/docs/usage/webhooks/webhooks-security
 */

/** POST parameters by name; a name that repeats carries several values. */
export type SignedParams = ReadonlyMap<string, readonly string[]>;

const encoder = new TextEncoder();

/** Groups a form-encoded body (`a=1&b=2`) by name, keeping repeated names. */
export function formParams(body: string): Map<string, string[]> {
  const params = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(body)) {
    const values = params.get(name);
    if (values) values.push(value);
    else params.set(name, [value]);
  }
  return params;
}

/** The exact string Twilio signs: the URL followed by the sorted parameters. */
export function signedPayload(url: string, params: SignedParams): string {
  let data = url;
  for (const name of [...params.keys()].sort()) {
    // Like the twilio package: repeated values are de-duplicated and sorted, each written as name+value.
    const values = [...new Set(params.get(name))].sort();
    for (const value of values) data += name + value;
  }
  return data;
}

function hmacSha1Key(authToken: string) {
  return crypto.subtle.importKey("raw", encoder.encode(authToken), { name: "HMAC", hash: "SHA-1" }, false, [
    "sign",
    "verify",
  ]);
}

function base64ToBytes(text: string): Uint8Array<ArrayBuffer> | null {
  if (text.length === 0 || text.length > 64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return null;
  try {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return null;
  }
}

/** Computes the signature Twilio would send for `url` and `params`. */
export async function twilioSignature(authToken: string, url: string, params: SignedParams): Promise<string> {
  const mac = await crypto.subtle.sign(
    "HMAC",
    await hmacSha1Key(authToken),
    encoder.encode(signedPayload(url, params)),
  );
  let binary = "";
  for (const byte of new Uint8Array(mac)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

const URL_PARTS = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is;

/** The URL as written, the URL without its port, and the URL with the scheme's default port. */
export function signatureUrlCandidates(url: string): string[] {
  const match = URL_PARTS.exec(url);
  if (!match) return [url];
  const [, scheme = "", authority = "", rest = ""] = match;
  const hostStart = authority.lastIndexOf("@") + 1;
  const userInfo = authority.slice(0, hostStart);
  const hostAndPort = authority.slice(hostStart);
  const portStart = hostAndPort.indexOf(":", hostAndPort.lastIndexOf("]") + 1);
  const host = portStart === -1 ? hostAndPort : hostAndPort.slice(0, portStart);
  const secure = /^(https|wss):\/\/$/i.test(scheme);
  const withoutPort = scheme + userInfo + host + rest;
  const withPort = portStart === -1 ? scheme + userInfo + host + (secure ? ":443" : ":80") + rest : url;
  return [...new Set([url, withoutPort, withPort])];
}

/**
 * True when `signature` is Twilio's signature of `url` (or its port variants) and `params`. The comparison
 * is crypto.subtle.verify, which runs in constant time.
 */
export async function isValidTwilioSignature(
  authToken: string,
  signature: string | undefined | null,
  url: string,
  params: SignedParams,
): Promise<boolean> {
  const expected = signature ? base64ToBytes(signature) : null;
  if (expected?.length !== 20) return false;
  const key = await hmacSha1Key(authToken);
  for (const candidate of signatureUrlCandidates(url)) {
    const data = encoder.encode(signedPayload(candidate, params));
    if (await crypto.subtle.verify("HMAC", key, expected, data)) return true;
  }
  return false;
}

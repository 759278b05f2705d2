/**
 * Short-lived tokens signed with HMAC-SHA256 (WebCrypto, so the edge and the bridge share this code).
 * Format: `v1.<purpose>.<subject>.<expiresAtMs>.<base64url signature>`; the signature covers everything
 * before it. A token binds one purpose (e.g. "bridge", "stream") to one subject (a CallSid).
 * Verification uses `crypto.subtle.verify`, which compares in constant time.
 */
import { AppError } from "./errors.ts";

export type TokenPurpose = "bridge" | "stream";

const encoder = new TextEncoder();
const SAFE_PART = /^[A-Za-z0-9_-]{1,128}$/;

type HmacKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

async function hmacKey(secret: string): Promise<HmacKey> {
  if (secret.length < 16) throw new AppError("bad_config", "token secret must be at least 16 characters");
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
}

function toBase64Url(bytes: ArrayBuffer): string {
  let binary = "";
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return null;
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  try {
    const binary = atob(padded);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

export async function signToken(
  secret: string,
  claims: { purpose: TokenPurpose; subject: string; expiresAtMs: number },
): Promise<string> {
  if (!SAFE_PART.test(claims.subject)) throw new AppError("bad_token", "token subject has unsafe characters");
  const body = `v1.${claims.purpose}.${claims.subject}.${Math.floor(claims.expiresAtMs)}`;
  const signature = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(body));
  return `${body}.${toBase64Url(signature)}`;
}

/** Throws AppError("bad_token") unless the token is well-formed, signed with `secret`, for this purpose and subject, and not expired. */
export async function verifyToken(
  secret: string,
  token: string,
  expected: { purpose: TokenPurpose; subject: string; nowMs: number },
): Promise<void> {
  const parts = token.length <= 512 ? token.split(".") : [];
  if (parts.length !== 5 || parts[0] !== "v1") throw new AppError("bad_token", "token is malformed");
  const [, purpose, subject, expiresText, signatureText] = parts as [string, string, string, string, string];
  const signature = fromBase64Url(signatureText);
  if (!signature || !/^\d{1,16}$/.test(expiresText)) throw new AppError("bad_token", "token is malformed");
  const body = `v1.${purpose}.${subject}.${expiresText}`;
  const valid = await crypto.subtle.verify("HMAC", await hmacKey(secret), signature, encoder.encode(body));
  if (!valid) throw new AppError("bad_token", "token signature does not match");
  if (purpose !== expected.purpose)
    throw new AppError("bad_token", `token is for ${purpose}, not ${expected.purpose}`);
  if (subject !== expected.subject) throw new AppError("bad_token", "token is for another call");
  if (Number(expiresText) <= expected.nowMs) throw new AppError("bad_token", "token has expired");
}

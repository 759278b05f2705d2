/**
 * AWS Signature Version 4, server side: checks the Authorization header of the request that opens a
 * bidirectional stream, then the chain of per-frame signatures (`:chunk-signature`, algorithm
 * AWS4-HMAC-SHA256-PAYLOAD, each seeded with the previous signature) that the SDK puts on every input
 * frame. Failures carry the error type AWS would answer with.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export type AuthErrorType =
  | "MissingAuthenticationTokenException"
  | "UnrecognizedClientException"
  | "InvalidSignatureException"
  | "IncompleteSignatureException";

export class AuthFailure extends Error {
  override readonly name = "AuthFailure";
  readonly errorType: AuthErrorType;
  constructor(errorType: AuthErrorType, message: string) {
    super(message);
    this.errorType = errorType;
  }
}

/** What a verified request establishes, needed to check the frames that follow. */
export interface SigningContext {
  signingKey: Buffer;
  scope: string;
  /** The request signature: the seed of the frame-signature chain. */
  seedSignature: string;
}

const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;

const sha256Hex = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string | Uint8Array) =>
  createHmac("sha256", key).update(data).digest();

function sameHex(a: string, b: string): boolean {
  const left = Buffer.from(a, "hex");
  const right = Buffer.from(b, "hex");
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

/** RFC 3986 escaping as the SDK applies it to each path segment when signing. */
function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function canonicalQuery(search: string): string {
  const params = [...new URLSearchParams(search)].map(
    ([key, value]) => `${escapeUri(key)}=${escapeUri(value)}`,
  );
  return params.sort().join("&");
}

export interface SignedRequest {
  method: string;
  /** Path and query as received (already URI-encoded once). */
  url: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

function header(headers: SignedRequest["headers"], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

export function verifyRequestSignature(
  request: SignedRequest,
  credentials: StaticCredentials,
  expected: { service: string; region?: string },
  nowMs: number,
): SigningContext {
  const authorization = header(request.headers, "authorization");
  if (!authorization)
    throw new AuthFailure("MissingAuthenticationTokenException", "Missing Authentication Token");
  const match = AUTH_PATTERN.exec(authorization);
  if (!match) {
    throw new AuthFailure("IncompleteSignatureException", "Authorization header is not a SigV4 signature");
  }
  const [
    ,
    accessKeyId = "",
    shortDate = "",
    region = "",
    service = "",
    signedHeaderList = "",
    signature = "",
  ] = match;
  if (accessKeyId !== credentials.accessKeyId) {
    throw new AuthFailure(
      "UnrecognizedClientException",
      "The security token included in the request is invalid.",
    );
  }
  if (service !== expected.service || (expected.region && region !== expected.region)) {
    throw new AuthFailure(
      "InvalidSignatureException",
      `Credential should be scoped to a valid region and service ${expected.service}`,
    );
  }
  const longDate = header(request.headers, "x-amz-date") ?? "";
  const signedAtMs = Date.parse(
    longDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z"),
  );
  if (!longDate.startsWith(shortDate) || Number.isNaN(signedAtMs)) {
    throw new AuthFailure(
      "IncompleteSignatureException",
      "X-Amz-Date is missing or does not match the scope",
    );
  }
  if (Math.abs(nowMs - signedAtMs) > MAX_CLOCK_SKEW_MS) {
    throw new AuthFailure("InvalidSignatureException", "Signature expired: the request time is too skewed");
  }
  const names = signedHeaderList.split(";");
  const canonicalHeaders = names
    .map((name) => `${name}:${(header(request.headers, name) ?? "").trim().replace(/\s+/g, " ")}\n`)
    .join("");
  const queryAt = request.url.indexOf("?");
  const path = queryAt < 0 ? request.url : request.url.slice(0, queryAt);
  const search = queryAt < 0 ? "" : request.url.slice(queryAt + 1);
  const canonicalPath = escapeUri(path).replace(/%2F/g, "/");
  const payloadHash = header(request.headers, "x-amz-content-sha256") ?? sha256Hex("");
  const canonicalRequest = [
    request.method,
    canonicalPath,
    canonicalQuery(search),
    canonicalHeaders,
    signedHeaderList,
    payloadHash,
  ].join("\n");
  const scope = `${shortDate}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", longDate, scope, sha256Hex(canonicalRequest)].join("\n");
  let signingKey = hmac(`AWS4${credentials.secretAccessKey}`, shortDate);
  for (const part of [region, service, "aws4_request"]) signingKey = hmac(signingKey, part);
  const computed = hmac(signingKey, stringToSign).toString("hex");
  if (!sameHex(computed, signature)) {
    throw new AuthFailure(
      "InvalidSignatureException",
      "The request signature we calculated does not match the signature you provided.",
    );
  }
  return { signingKey, scope, seedSignature: computed };
}

/** The `:date` header exactly as the signer serialised it (name length, name, type 8, int64 ms). */
function dateHeaderBytes(dateMs: number): Buffer {
  const out = Buffer.alloc(1 + 5 + 1 + 8);
  out.writeUInt8(5, 0);
  out.write(":date", 1, "ascii");
  out.writeUInt8(8, 6);
  out.writeBigInt64BE(BigInt(dateMs), 7);
  return out;
}

/** Checks one frame's signature against the chain; returns the signature, the seed of the next frame. */
export function verifyFrameSignature(
  context: SigningContext,
  priorSignature: string,
  frame: { dateMs: number; signatureHex: string; payload: Uint8Array },
): string {
  const longDate = new Date(frame.dateMs)
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/[-:]/g, "");
  const stringToSign = [
    "AWS4-HMAC-SHA256-PAYLOAD",
    longDate,
    context.scope,
    priorSignature,
    sha256Hex(dateHeaderBytes(frame.dateMs)),
    sha256Hex(frame.payload),
  ].join("\n");
  const computed = hmac(context.signingKey, stringToSign).toString("hex");
  if (!sameHex(computed, frame.signatureHex)) {
    throw new AuthFailure(
      "InvalidSignatureException",
      "The event signature does not match the signature chain.",
    );
  }
  return computed;
}

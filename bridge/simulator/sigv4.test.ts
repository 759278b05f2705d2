/**
 * The verifier against the SDK's own signer (@smithy/signature-v4): what it signs must verify, and any
 * change to what was signed must not.
 */
import { createHash, createHmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import { AuthFailure, verifyFrameSignature, verifyRequestSignature } from "./sigv4.ts";

/** node:crypto behind the Checksum interface the signer expects (a keyed one is an HMAC). */
class NodeSha256 {
  readonly #hash;
  constructor(secret?: SourceData) {
    this.#hash = secret === undefined ? createHash("sha256") : createHmac("sha256", toBytes(secret));
  }
  update(data: Uint8Array | string): void {
    this.#hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
  reset(): void {}
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBytes(data: SourceData): Uint8Array | string {
  if (typeof data === "string") return data;
  return ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data);
}

const credentials = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
const signer = new SignatureV4({ credentials, region: "us-east-1", service: "bedrock", sha256: NodeSha256 });
const signingDate = new Date();

async function signedRequest() {
  const signed = await signer.sign(
    {
      method: "POST",
      protocol: "http:",
      hostname: "127.0.0.1",
      port: 8788,
      path: "/model/amazon.nova-2-sonic-v1%3A0/invoke-with-bidirectional-stream",
      query: {},
      headers: {
        ":authority": "127.0.0.1:8788",
        "content-type": "application/vnd.amazon.eventstream",
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-EVENTS",
      },
    },
    { signingDate },
  );
  return {
    method: signed.method,
    url: signed.path,
    headers: Object.fromEntries(
      Object.entries(signed.headers).map(([name, value]) => [name.toLowerCase(), value]),
    ),
  };
}

function failure(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof AuthFailure) return error.errorType;
    throw error;
  }
  return "verified";
}

describe("SigV4 verification", () => {
  it("verifies the request the SDK signer signed, and refuses it once anything changes", async () => {
    const request = await signedRequest();
    const verify = (changed: typeof request, creds = credentials, nowMs = signingDate.getTime()) =>
      failure(() =>
        verifyRequestSignature(changed, creds, { service: "bedrock", region: "us-east-1" }, nowMs),
      );
    expect(verify(request)).toBe("verified");
    expect(verify({ ...request, url: request.url.replace("nova-2", "nova-3") })).toBe(
      "InvalidSignatureException",
    );
    expect(verify({ ...request, headers: { ...request.headers, ":authority": "evil:1" } })).toBe(
      "InvalidSignatureException",
    );
    expect(verify(request, { ...credentials, secretAccessKey: "other" })).toBe("InvalidSignatureException");
    expect(verify(request, { ...credentials, accessKeyId: "AKIDOTHER" })).toBe("UnrecognizedClientException");
    expect(verify(request, credentials, signingDate.getTime() + 6 * 60_000)).toBe(
      "InvalidSignatureException",
    );
    const { authorization: _dropped, ...unsigned } = request.headers;
    expect(verify({ ...request, headers: unsigned })).toBe("MissingAuthenticationTokenException");
    expect(
      failure(() =>
        verifyRequestSignature(
          request,
          credentials,
          { service: "bedrock", region: "eu-west-1" },
          signingDate.getTime(),
        ),
      ),
    ).toBe("InvalidSignatureException");
  });

  it("follows the chain of frame signatures, each seeded by the one before", async () => {
    const request = await signedRequest();
    const context = verifyRequestSignature(
      request,
      credentials,
      { service: "bedrock" },
      signingDate.getTime(),
    );
    let prior = context.seedSignature;
    const sign = async (body: Uint8Array, priorSignature: string, date: Date) =>
      (
        await signer.signMessage(
          { message: { headers: { ":date": { type: "timestamp", value: date } }, body }, priorSignature },
          { signingDate: date },
        )
      ).signature;
    const frames = [new Uint8Array([1, 2, 3]), new Uint8Array([4, 5]), new Uint8Array(0)];
    for (const payload of frames) {
      const date = new Date(Math.floor(Date.now() / 1000) * 1000);
      const signatureHex = await sign(payload, prior, date);
      prior = verifyFrameSignature(context, prior, { dateMs: date.getTime(), signatureHex, payload });
    }
    const date = new Date();
    const signatureHex = await sign(new Uint8Array([9]), prior, date);
    expect(
      failure(() =>
        verifyFrameSignature(context, prior, {
          dateMs: date.getTime(),
          signatureHex,
          payload: new Uint8Array([8]),
        }),
      ),
    ).toBe("InvalidSignatureException");
    expect(
      failure(() =>
        verifyFrameSignature(context, context.seedSignature, {
          dateMs: date.getTime(),
          signatureHex,
          payload: new Uint8Array([9]),
        }),
      ),
    ).toBe("InvalidSignatureException");
  });
});

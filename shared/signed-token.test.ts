import { describe, expect, it } from "vitest";
import { AppError } from "./errors.ts";
import { signToken, verifyToken } from "./signed-token.ts";

const secret = "a-shared-secret-of-some-length";
const subject = "CA0123456789abcdef0123456789abcdef";

async function failure(promise: Promise<void>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return `${error.code}: ${error.message}`;
    throw error;
  }
  return "accepted";
}

describe("signed tokens", () => {
  it("verify for the same purpose, subject and time", async () => {
    const token = await signToken(secret, { purpose: "bridge", subject, expiresAtMs: 2000 });
    await expect(
      verifyToken(secret, token, { purpose: "bridge", subject, nowMs: 1999 }),
    ).resolves.toBeUndefined();
  });

  it("refuse expiry, another call, another purpose, another secret and tampering", async () => {
    const token = await signToken(secret, { purpose: "bridge", subject, expiresAtMs: 2000 });
    expect(await failure(verifyToken(secret, token, { purpose: "bridge", subject, nowMs: 2000 }))).toMatch(
      /expired/,
    );
    expect(
      await failure(
        verifyToken(secret, token, { purpose: "bridge", subject: subject.replace("CA0", "CA1"), nowMs: 0 }),
      ),
    ).toMatch(/another call/);
    expect(await failure(verifyToken(secret, token, { purpose: "stream", subject, nowMs: 0 }))).toMatch(
      /not stream/,
    );
    expect(await failure(verifyToken(`${secret}x`, token, { purpose: "bridge", subject, nowMs: 0 }))).toMatch(
      /signature/,
    );
    const tampered = token.replace(".2000.", ".9999.");
    expect(await failure(verifyToken(secret, tampered, { purpose: "bridge", subject, nowMs: 0 }))).toMatch(
      /signature/,
    );
  });

  it("refuse malformed tokens with a coded error", async () => {
    for (const bad of [
      "",
      "v1.bridge",
      "v2.bridge.x.1.sig",
      "v1.bridge.x.1.s!g",
      "v1.bridge.x.abc.sig",
      "x".repeat(600),
    ]) {
      expect(await failure(verifyToken(secret, bad, { purpose: "bridge", subject, nowMs: 0 }))).toMatch(
        /^bad_token/,
      );
    }
  });

  it("refuse short secrets", async () => {
    expect(
      await failure(signToken("short", { purpose: "bridge", subject, expiresAtMs: 1 }).then(() => undefined)),
    ).toMatch(/^bad_config/);
  });
});

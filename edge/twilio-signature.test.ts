import { describe, expect, it } from "vitest";
import { edge } from "./test-support/harness.ts";
import {
  formParams,
  isValidTwilioSignature,
  signatureUrlCandidates,
  signedPayload,
  twilioSignature,
} from "./twilio-signature.ts";

const grouped = (pairs: [string, string][]) => formParams(new URLSearchParams(pairs).toString());

describe("X-Twilio-Signature", () => {
  it("matches Twilio's documented example", async () => {
    const params = grouped([
      ["CallSid", "CA1234567890ABCDE"],
      ["Caller", "+12349013030"],
      ["Digits", "1234"],
      ["From", "+12349013030"],
      ["To", "+18005551212"],
    ]);
    const url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    expect(await twilioSignature("12345", url, params)).toBe("0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    expect(await isValidTwilioSignature("12345", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", url, params)).toBe(true);
  });

  describe.each(edge.signatureVectors)("vector from the twilio package: $name", (vector) => {
    const params = grouped(vector.params);
    it("computes the same signature", async () => {
      expect(await twilioSignature(vector.authToken, vector.signedUrl, params)).toBe(vector.signature);
    });
    it(`is ${vector.expectValid ? "accepted" : "refused"} at ${vector.checkUrl}`, async () => {
      if (vector.twilioValid !== null) expect(vector.twilioValid).toBe(vector.expectValid);
      expect(await isValidTwilioSignature(vector.authToken, vector.signature, vector.checkUrl, params)).toBe(
        vector.expectValid,
      );
    });
  });

  it("refuses a tampered parameter, a wrong token, and missing or malformed signatures", async () => {
    const vector = edge.signatureVectors.find((v) => v.name === "voice webhook");
    if (!vector) throw new Error("vector missing");
    const params = grouped(vector.params);
    const tampered = grouped(vector.params.map(([n, v]) => (n === "To" ? [n, "+18005550000"] : [n, v])));
    const check = (signature: string | null, p = params, token = vector.authToken) =>
      isValidTwilioSignature(token, signature, vector.checkUrl, p);
    expect(await check(vector.signature)).toBe(true);
    expect(await check(vector.signature, tampered)).toBe(false);
    expect(await check(vector.signature, params, "not-the-token-000000")).toBe(false);
    expect(await check(null)).toBe(false);
    expect(await check("")).toBe(false);
    expect(await check("not base64 !!")).toBe(false);
    expect(await check(btoa("short"))).toBe(false);
    expect(await check(vector.signature.replace(/^./, (c) => (c === "A" ? "B" : "A")))).toBe(false);
  });

  it("sorts names, keeps repeated values sorted and de-duplicated", () => {
    const params = grouped([
      ["b", "2"],
      ["a", "z"],
      ["a", "y"],
      ["a", "z"],
    ]);
    expect(signedPayload("https://x/", params)).toBe("https://x/ayazb2");
  });

  it("tries the URL without its port and with the scheme's default port", () => {
    expect(signatureUrlCandidates("https://h/p?q")).toEqual(["https://h/p?q", "https://h:443/p?q"]);
    expect(signatureUrlCandidates("wss://h:443/m")).toEqual(["wss://h:443/m", "wss://h/m"]);
    expect(signatureUrlCandidates("ws://h/m")).toEqual(["ws://h/m", "ws://h:80/m"]);
    expect(signatureUrlCandidates("http://h:8787/v")).toEqual(["http://h:8787/v", "http://h/v"]);
  });
});

/**
 * `npm run twilio:configure` against a stand-in of Twilio's REST API (test/twilio-api/), through the real
 * `twilio` package and its HTTP client: only the origin of each request is swapped. Checks what the tool
 * sends (parameter names and values, nothing more than what differs), what it prints (a diff an operator
 * can read, no secret), and its answers to wrong credentials and unknown numbers.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EXIT, runTwilioConfigure } from "../../edge/deploy/twilio-configure.ts";
import {
  type StandInNumber,
  startTwilioApiStandIn,
  type TwilioApiStandIn,
} from "../twilio-api/twilio-api-stand-in.ts";

const ACCOUNT_SID = `AC${"1".repeat(32)}`;
const AUTH_TOKEN = "stand-in-auth-token-0123456789abcdef";
const API_KEY = `SK${"2".repeat(32)}`;
const API_SECRET = "stand-in-api-secret-0123456789abcdef";
const EDGE = "https://voice.example.com";

const OLD_APP = `AP${"3".repeat(32)}`;
const numberAt = (sid: string, phoneNumber: string, changes: Partial<StandInNumber> = {}): StandInNumber => ({
  sid,
  phoneNumber,
  friendlyName: `Line ${phoneNumber.slice(-4)}`,
  voiceUrl: "https://demo.twilio.com/welcome/voice/",
  voiceMethod: "GET",
  voiceFallbackUrl: null,
  voiceFallbackMethod: "POST",
  statusCallback: null,
  statusCallbackMethod: "POST",
  voiceApplicationSid: null,
  trunkSid: null,
  voiceReceiveMode: "voice",
  voiceCapable: true,
  ...changes,
});
const SALES = numberAt(`PN${"a".repeat(32)}`, "+14155550100", { voiceApplicationSid: OLD_APP });
const SUPPORT = numberAt(`PN${"b".repeat(32)}`, "+14155550199", {
  voiceUrl: `${EDGE}/voice`,
  voiceMethod: "POST",
  statusCallback: `${EDGE}/status`,
});
const FAX = numberAt(`PN${"c".repeat(32)}`, "+442071838750", { voiceCapable: false });

let api: TwilioApiStandIn;
beforeEach(async () => {
  api = await startTwilioApiStandIn({
    account: { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, apiKeys: { [API_KEY]: API_SECRET } },
    numbers: [SALES, SUPPORT, FAX],
  });
});
afterEach(async () => {
  await api.close();
});

const tokenEnv = { TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN };

async function run(argv: string[], env: Record<string, string> = tokenEnv) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runTwilioConfigure(
    argv,
    env,
    { out: (line) => out.push(line), err: (line) => err.push(line) },
    { apiBaseUrl: api.url },
  );
  const text = [...out, ...err].join("\n");
  for (const secret of [AUTH_TOKEN, API_SECRET]) expect(text).not.toContain(secret);
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("twilio:configure, configuring a number", () => {
  it("finds the number by E.164, sends only what differs, reads it back and prints the diff", async () => {
    const result = await run(["--number", "+1 (415) 555-0100", "--edge", EDGE]);
    expect(result.err).toBe("");
    expect(result.code).toBe(EXIT.ok);

    const [lookup, update, readBack, ...more] = api.requests;
    expect(more).toEqual([]);
    expect(lookup).toMatchObject({
      method: "GET",
      path: `/2010-04-01/Accounts/${ACCOUNT_SID}/IncomingPhoneNumbers.json`,
    });
    expect(lookup?.query).toContainEqual(["PhoneNumber", "+14155550100"]);
    expect(update).toMatchObject({
      method: "POST",
      path: `/2010-04-01/Accounts/${ACCOUNT_SID}/IncomingPhoneNumbers/${SALES.sid}.json`,
      status: 200,
      authenticatedAs: ACCOUNT_SID,
    });
    expect(Object.fromEntries(update?.form ?? [])).toEqual({
      VoiceUrl: `${EDGE}/voice`,
      VoiceMethod: "POST",
      StatusCallback: `${EDGE}/status`,
      VoiceApplicationSid: "",
    });
    expect(readBack).toMatchObject({ method: "GET", path: update?.path, status: 200 });

    expect(api.number(SALES.sid)).toMatchObject({
      voiceUrl: `${EDGE}/voice`,
      voiceMethod: "POST",
      statusCallback: `${EDGE}/status`,
      statusCallbackMethod: "POST",
      voiceApplicationSid: null,
    });
    expect(result.out).toContain(`+14155550100 (${SALES.sid}) "Line 0100" against the edge ${EDGE}:`);
    expect(result.out).toMatch(
      /≠ voice_url +expected https:\/\/voice\.example\.com\/voice, is https:\/\/demo\.twilio\.com/,
    );
    expect(result.out).toMatch(/≠ voice_application_sid +expected \(unset\), is AP3{32}/);
    expect(result.out).toMatch(/= status_callback_method +POST/);
    expect(result.out).toContain("Read back from Twilio:");
    expect(result.out).not.toMatch(/Read back from Twilio:[\s\S]*≠/);
    expect(result.out).toContain(`Done: calls to +14155550100 now go to ${EDGE}/voice.`);
  });

  it("changes nothing on a number that is already right (by SID, edge from PUBLIC_BASE_URL)", async () => {
    const result = await run(["--number", SUPPORT.sid], { ...tokenEnv, PUBLIC_BASE_URL: `${EDGE}/` });
    expect(result.code).toBe(EXIT.ok);
    expect(result.out).toContain("Already configured: nothing to change.");
    expect(api.requests.map((request) => request.method)).toEqual(["GET"]);
  });

  it("--check compares without changing and exits 1 when something differs", async () => {
    const result = await run(["--number", "+14155550100", "--edge", EDGE, "--check"]);
    expect(result.code).toBe(EXIT.differs);
    expect(result.out).toContain("4 setting(s) differ");
    expect(api.requests.filter((request) => request.method === "POST")).toEqual([]);
    expect(api.number(SALES.sid)?.voiceApplicationSid).toBe(OLD_APP);
  });

  it("works with an API key of the account", async () => {
    const result = await run(["--number", "+14155550100", "--edge", EDGE], {
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_API_KEY: API_KEY,
      TWILIO_API_SECRET: API_SECRET,
    });
    expect(result.code).toBe(EXIT.ok);
    expect(result.out).toContain(`API key SK…2222`);
    expect(api.requests.every((request) => request.authenticatedAs === API_KEY)).toBe(true);
  });

  it("refuses a number that cannot take calls", async () => {
    const result = await run(["--number", FAX.sid, "--edge", EDGE]);
    expect(result.code).toBe(EXIT.twilio);
    expect(result.err).toContain("cannot receive voice calls");
  });
});

describe("twilio:configure, listing", () => {
  it("lists every number with where its calls go, marking the ones at this edge", async () => {
    const result = await run(["--list", "--edge", EDGE]);
    expect(result.code).toBe(EXIT.ok);
    const lines = result.out.split("\n");
    expect(lines).toContain("3 phone number(s):");
    expect(lines.find((line) => line.includes("+14155550100"))).toContain(`application ${OLD_APP}`);
    expect(lines.find((line) => line.includes("+14155550199"))).toMatch(
      /POST https:\/\/voice\.example\.com\/voice {2}\[this edge\]$/,
    );
    expect(lines.find((line) => line.includes("+442071838750"))).toContain("(no voice)");
  });
});

describe("twilio:configure, failures", () => {
  it("names Twilio's 20003 and the variables to check when the auth token is wrong", async () => {
    const result = await run(["--number", "+14155550100", "--edge", EDGE], {
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: "wrong-token-0123456789abcdef",
    });
    expect(result.code).toBe(EXIT.twilio);
    expect(result.err).toBe(
      "Twilio refused the credentials (20003 Authenticate): check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN",
    );
    expect(api.requests.map((request) => request.status)).toEqual([401]);
  });

  it("names the API key variables when the API secret is wrong", async () => {
    const result = await run(["--list"], {
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_API_KEY: API_KEY,
      TWILIO_API_SECRET: "wrong-secret",
    });
    expect(result.code).toBe(EXIT.twilio);
    expect(result.err).toContain("check TWILIO_ACCOUNT_SID, TWILIO_API_KEY and TWILIO_API_SECRET");
  });

  it("reports an unknown SID (Twilio's 20404) and an unknown phone number", async () => {
    const unknownSid = `PN${"d".repeat(32)}`;
    const bySid = await run(["--number", unknownSid, "--edge", EDGE]);
    expect(bySid.code).toBe(EXIT.twilio);
    expect(bySid.err).toBe(`${unknownSid}: not found on account AC…1111 (20404)`);
    const byNumber = await run(["--number", "+14155550123", "--edge", EDGE]);
    expect(byNumber.code).toBe(EXIT.twilio);
    expect(byNumber.err).toBe("+14155550123 is not a phone number of this account");
  });

  it("rejects a bad command line before calling Twilio", async () => {
    expect((await run(["--number", "+14155550100"])).err).toContain("--edge or PUBLIC_BASE_URL");
    expect((await run(["--number", "+14155550100", "--edge", "http://voice.example.com"])).err).toContain(
      "must be https",
    );
    expect((await run(["--number", "555", "--edge", EDGE])).err).toContain("E.164");
    expect(
      (await run(["--number", "+14155550100", "--edge", EDGE], { TWILIO_ACCOUNT_SID: ACCOUNT_SID })).err,
    ).toContain("set TWILIO_AUTH_TOKEN, or TWILIO_API_KEY and TWILIO_API_SECRET");
    expect((await run(["--nmber", "+14155550100"])).code).toBe(EXIT.usage);
    expect(api.requests).toEqual([]);
  });
});

describe("the Twilio API stand-in", () => {
  const form = (params: Record<string, string>, user = ACCOUNT_SID, password = AUTH_TOKEN) =>
    fetch(`${api.url}/2010-04-01/Accounts/${ACCOUNT_SID}/IncomingPhoneNumbers/${SALES.sid}.json`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams(params),
    });

  it("is as strict as Twilio on values, and stricter on names", async () => {
    expect(await (await form({ VoiceMethod: "post" })).json()).toMatchObject({ status: 400, code: 21403 });
    expect(await (await form({ VoiceUrl: "voice.example.com/voice" })).json()).toMatchObject({
      status: 400,
      code: 21402,
    });
    expect(await (await form({ VoiceURL: `${EDGE}/voice` })).json()).toMatchObject({
      status: 400,
      code: 20001,
    });
    expect(await (await form({ VoiceUrl: `${EDGE}/voice` }, ACCOUNT_SID, "nope")).json()).toMatchObject({
      status: 401,
      code: 20003,
    });
    expect(api.number(SALES.sid)?.voiceUrl).toBe(SALES.voiceUrl);
  });
});

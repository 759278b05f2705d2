import { describe, expect, it } from "vitest";
import {
  diffVoiceSettings,
  expectedVoiceSettings,
  formatVoiceDiff,
  maskSid,
  parseConfigureCommand,
  parseEdgeBaseUrl,
  parseNumberRef,
  parseTwilioCredentials,
  voiceSettingsUpdate,
} from "./twilio-number-config.ts";

const ACCOUNT_SID = `AC${"0".repeat(32)}`;
const API_KEY = `SK${"f".repeat(32)}`;

describe("expected settings and the diff", () => {
  const expected = expectedVoiceSettings("https://voice.example.com");

  it("points voice and status at the edge, with nothing overriding the voice URL", () => {
    expect(expected).toEqual({
      voiceUrl: "https://voice.example.com/voice",
      voiceMethod: "POST",
      statusCallback: "https://voice.example.com/status",
      statusCallbackMethod: "POST",
      voiceApplicationSid: "",
      trunkSid: "",
      voiceReceiveMode: "voice",
    });
  });

  it("updates only what differs, to the expected values", () => {
    const actual = { ...expected, voiceMethod: "GET", trunkSid: `TK${"1".repeat(32)}` };
    const diffs = diffVoiceSettings(expected, actual);
    expect(diffs.filter((diff) => !diff.matches).map((diff) => diff.field)).toEqual([
      "voice_method",
      "trunk_sid",
    ]);
    expect(voiceSettingsUpdate(diffs)).toEqual({ voiceMethod: "POST", trunkSid: "" });
    expect(voiceSettingsUpdate(diffVoiceSettings(expected, expected))).toEqual({});
  });

  it("prints one aligned line per setting, unset values named", () => {
    const lines = formatVoiceDiff(diffVoiceSettings(expected, { ...expected, statusCallback: "" }));
    expect(lines).toHaveLength(7);
    expect(lines[2]).toBe(
      "  ≠ status_callback         expected https://voice.example.com/status, is (unset)",
    );
    expect(lines[5]).toBe("  = trunk_sid               (unset)");
  });

  it("masks SIDs to their last four characters", () => {
    expect(maskSid(ACCOUNT_SID)).toBe("AC…0000");
  });
});

describe("command-line parsing", () => {
  it("reads a number as E.164 (spaces and punctuation dropped) or as a PN SID", () => {
    expect(parseNumberRef("+1 (415) 555-0100")).toEqual({ kind: "e164", phoneNumber: "+14155550100" });
    expect(parseNumberRef(`PN${"a".repeat(32)}`)).toEqual({ kind: "sid", sid: `PN${"a".repeat(32)}` });
    expect(() => parseNumberRef("4155550100")).toThrow(/E\.164/);
  });

  it("takes the edge as an https origin only", () => {
    expect(parseEdgeBaseUrl("https://voice.example.com/", "--edge")).toBe("https://voice.example.com");
    expect(() => parseEdgeBaseUrl("http://voice.example.com", "--edge")).toThrow(/must be https/);
    expect(() => parseEdgeBaseUrl("https://voice.example.com/voice", "--edge")).toThrow(/without path/);
    expect(() => parseEdgeBaseUrl("voice.example.com", "PUBLIC_BASE_URL")).toThrow(
      /PUBLIC_BASE_URL is not a URL/,
    );
  });

  it("prefers an API key to the auth token, and lists every credential problem", () => {
    expect(parseTwilioCredentials({ TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: "t" })).toEqual({
      kind: "auth-token",
      accountSid: ACCOUNT_SID,
      authToken: "t",
    });
    expect(
      parseTwilioCredentials({
        TWILIO_ACCOUNT_SID: ACCOUNT_SID,
        TWILIO_AUTH_TOKEN: "t",
        TWILIO_API_KEY: API_KEY,
        TWILIO_API_SECRET: "s",
      }),
    ).toMatchObject({ kind: "api-key", apiKey: API_KEY, apiSecret: "s" });
    expect(() => parseTwilioCredentials({ TWILIO_API_KEY: "SK1" })).toThrow(
      "Twilio credentials: TWILIO_ACCOUNT_SID is missing; TWILIO_API_KEY must be SK followed by 32 hex digits; " +
        "TWILIO_API_SECRET is missing (it goes with TWILIO_API_KEY)",
    );
  });

  it("tells configure, check, list and help apart", () => {
    const env = {
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: "t",
      PUBLIC_BASE_URL: "https://e.example",
    };
    expect(parseConfigureCommand(["-n", "+14155550100"], env)).toMatchObject({
      kind: "configure",
      edgeBaseUrl: "https://e.example",
    });
    expect(
      parseConfigureCommand(["-n", "+14155550100", "--check", "-e", "https://f.example"], env),
    ).toMatchObject({
      kind: "check",
      edgeBaseUrl: "https://f.example",
    });
    expect(parseConfigureCommand(["--list"], { ...env, PUBLIC_BASE_URL: undefined })).toMatchObject({
      kind: "list",
      edgeBaseUrl: null,
    });
    expect(parseConfigureCommand(["-h"], {})).toEqual({ kind: "help" });
    expect(() => parseConfigureCommand(["--list", "--check"], env)).toThrow(/--list takes no/);
    expect(() => parseConfigureCommand(["extra"], env)).toThrow(/positional/i);
  });
});

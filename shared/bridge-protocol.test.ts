import { describe, expect, it } from "vitest";
import {
  BRIDGE_PROTOCOL_VERSION,
  BridgeCloseCode,
  buildBridgeControl,
  buildResume,
  closeCodeName,
  isControlFrame,
  parseBridgeControl,
  parseBridgeHealth,
  parseEdgeControl,
  parsePrewarmRequest,
} from "./bridge-protocol.ts";
import { AppError } from "./errors.ts";
import { buildMedia } from "./twilio-media.ts";

const callSid = "CA0123456789abcdef0123456789abcdef";

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return `${error.code}: ${error.message}`;
    throw error;
  }
  return "no error";
}

describe("control frames", () => {
  it("are told from Twilio frames by their first key", () => {
    const turn = buildBridgeControl({
      bridge: "turn",
      turnIndex: 1,
      userText: "hello",
      assistantText: "Hi there, how can I help?",
      heardText: "Hi there,",
      heardMs: 640,
      replyMs: 1900,
      interrupted: true,
      interruptedBy: "vad",
      timings: { callerSpeechEndMs: 1000, firstFrameSentMs: 1700.5 },
    });
    expect(isControlFrame(turn)).toBe(true);
    expect(isControlFrame(buildMedia("MZ18ad3ab5a668481ce02b83e7395059f0", "AAAA"))).toBe(false);
    expect(parseBridgeControl(turn)).toMatchObject({
      bridge: "turn",
      heardText: "Hi there,",
      interruptedBy: "vad",
    });
  });

  it("round-trips a resume with history", () => {
    const frame = buildResume({
      callSid,
      reason: "failover",
      history: [
        { role: "USER", text: "Where is my order?" },
        { role: "ASSISTANT", text: "Let me check" },
      ],
      turnsCompleted: 2,
      callStartedAtMs: 1_700_000_000_000,
    });
    expect(isControlFrame(frame)).toBe(true);
    expect(parseEdgeControl(frame)).toMatchObject({
      protocolVersion: BRIDGE_PROTOCOL_VERSION,
      turnsCompleted: 2,
    });
  });

  it.each([
    ['{"bridge":"nope"}', /^bad_frame: bridge control bridge:/],
    ['{"bridge":"hangup","reason":"bored"}', /reason/],
    ['{"bridge":"transcript","turnIndex":-1,"role":"USER","text":"x","atMs":1}', /turnIndex/],
    ['{"bridge":"turn"', /^bad_json/],
  ])("rejects %s", (frame, expected) => {
    expect(errorOf(() => parseBridgeControl(frame))).toMatch(expected);
  });

  it("rejects a resume for something that is not a call SID", () => {
    const frame = buildResume({
      callSid: "../../etc",
      reason: "failover",
      history: [],
      turnsCompleted: 0,
      callStartedAtMs: 0,
    });
    expect(errorOf(() => parseEdgeControl(frame))).toMatch(/callSid/);
  });
});

describe("HTTP bodies", () => {
  it("parses prewarm and health", () => {
    expect(parsePrewarmRequest(JSON.stringify({ callSid, voiceId: "tiffany" }))).toEqual({
      callSid,
      voiceId: "tiffany",
    });
    expect(errorOf(() => parsePrewarmRequest("{}"))).toMatch(/callSid/);
    const health = {
      status: "draining",
      bridgeId: "b1",
      region: "us-east-1",
      protocolVersion: 1,
      activeCalls: 3,
      maxCalls: 100,
    };
    expect(parseBridgeHealth(JSON.stringify(health))).toEqual(health);
    expect(errorOf(() => parseBridgeHealth(JSON.stringify({ ...health, status: "sleepy" })))).toMatch(
      /status/,
    );
  });
});

describe("close codes", () => {
  it("have names and stay in the ranges WebSocket allows", () => {
    expect(closeCodeName(BridgeCloseCode.DRAINING)).toBe("DRAINING");
    expect(closeCodeName(4999)).toBe("UNKNOWN_4999");
    for (const code of Object.values(BridgeCloseCode)) {
      expect(code === 1000 || code === 1001 || code === 1009 || (code >= 4000 && code <= 4999)).toBe(true);
    }
  });
});

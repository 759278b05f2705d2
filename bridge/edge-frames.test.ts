import { describe, expect, it } from "vitest";
import { BridgeCloseCode, buildResume } from "../shared/bridge-protocol.ts";
import { buildDtmf, buildInboundMedia } from "../shared/twilio-media.ts";
import { classifyEdgeFrame } from "./edge-frames.ts";

const streamSid = `MZ${"a".repeat(32)}`;
const callSid = `CA${"b".repeat(32)}`;

describe("classifyEdgeFrame", () => {
  it("tells Twilio frames from control messages", () => {
    const media = buildInboundMedia({
      sequenceNumber: 3,
      streamSid,
      chunk: 1,
      timestampMs: 20,
      payloadBase64: "//8=",
    });
    expect(classifyEdgeFrame(media, false)).toMatchObject({ kind: "twilio", message: { event: "media" } });
    const dtmf = buildDtmf({ sequenceNumber: 4, streamSid, digit: "7" });
    expect(classifyEdgeFrame(dtmf, false)).toMatchObject({
      kind: "twilio",
      message: { dtmf: { digit: "7" } },
    });
    const resume = buildResume({
      callSid,
      reason: "failover",
      history: [{ role: "USER", text: "hi" }],
      turnsCompleted: 1,
      callStartedAtMs: 1,
    });
    expect(classifyEdgeFrame(resume, false)).toMatchObject({
      kind: "control",
      message: { bridge: "resume" },
    });
  });

  it("names the close code for each kind of bad frame", () => {
    const cases: Array<[string | Uint8Array, boolean, number, string]> = [
      ["not json", false, BridgeCloseCode.PROTOCOL_ERROR, "bad_json"],
      ['{"event":"media","streamSid":"MZ1"}', false, BridgeCloseCode.PROTOCOL_ERROR, "bad_frame"],
      ['{"bridge":"launch"}', false, BridgeCloseCode.PROTOCOL_ERROR, "bad_frame"],
      [new Uint8Array([1, 2]), true, BridgeCloseCode.PROTOCOL_ERROR, "bad_frame"],
      [
        `{"event":"media","x":"${"a".repeat(70_000)}"}`,
        false,
        BridgeCloseCode.MESSAGE_TOO_BIG,
        "frame_too_large",
      ],
    ];
    for (const [data, isBinary, closeCode, code] of cases) {
      const frame = classifyEdgeFrame(data, isBinary);
      expect(frame.kind).toBe("invalid");
      if (frame.kind === "invalid") {
        expect(frame.closeCode).toBe(closeCode);
        expect(frame.error.code).toBe(code);
      }
    }
  });
});

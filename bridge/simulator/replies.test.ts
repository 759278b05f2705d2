import { describe, expect, it } from "vitest";
import { AppError } from "../../shared/errors.ts";
import { NOVA_SAMPLE_RATES_HZ } from "../../shared/nova-events.ts";
import { DEFAULT_PROMPT_TEXTS } from "../config-fast-paths.ts";
import { renderInstruction } from "../prompt-render.ts";
import { chooseReply, REPLY_IDS, REPLY_TEXTS, ReplyLibrary } from "./replies.ts";
import { readWav } from "./wav.ts";

describe("replies", () => {
  const library = ReplyLibrary.load();

  it("has every reply at every rate, the same speech at each", () => {
    for (const id of REPLY_IDS) {
      const durations = NOVA_SAMPLE_RATES_HZ.map((rate) => library.get(id, rate).durationMs);
      expect(Math.min(...durations)).toBeGreaterThan(1000);
      expect(Math.max(...durations) - Math.min(...durations)).toBeLessThan(5);
    }
  });

  it("is speech, not silence or clipping", () => {
    const { pcm } = library.get("greeting", 8000);
    const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.byteLength / 2);
    let sum = 0;
    let peak = 0;
    for (const sample of samples) {
      sum += sample * sample;
      peak = Math.max(peak, Math.abs(sample));
    }
    const rmsDbfs = 20 * Math.log10(Math.sqrt(sum / samples.length) / 32768);
    expect(rmsDbfs).toBeGreaterThan(-30);
    expect(peak).toBeLessThan(32767);
  });

  it("chooses deterministically from what triggered the turn", () => {
    expect(chooseReply({ kind: "text", text: "The caller has just connected. Greet them." }, false)).toBe(
      "greeting",
    );
    expect(chooseReply({ kind: "text", text: "The caller has just connected. Greet them." }, true)).toBe(
      "greeting_again",
    );
    expect(chooseReply({ kind: "text", text: "The caller pressed 5" }, true)).toBe("digits");
    expect(chooseReply({ kind: "text", text: `Say exactly: "${REPLY_TEXTS.tool_done}"` }, true)).toBe(
      "tool_done",
    );
    expect(chooseReply({ kind: "tool_result", toolName: "transfer" }, true)).toBe("tool_done");
    expect([0, 1, 2, 3].map((index) => chooseReply({ kind: "audio", audioTurnIndex: index }, true))).toEqual([
      "ack",
      "hours",
      "more",
      "ack",
    ]);
  });

  it("refuses files that are not 16-bit mono WAV", () => {
    expect(() => readWav(new Uint8Array(40), "x.wav")).toThrow(AppError);
    const header = Buffer.alloc(44);
    header.write("RIFF", 0);
    header.write("WAVE", 8);
    header.write("fmt ", 12);
    header.writeUInt32LE(16, 16);
    header.writeUInt16LE(2, 22);
    header.writeUInt32LE(8000, 24);
    header.writeUInt16LE(16, 34);
    header.write("data", 36);
    expect(() => readWav(header, "stereo.wav")).toThrow(/16-bit mono/);
  });
});

describe("the bridge's default prompts", () => {
  it("are lines the simulator can say word for word, so rendering them gives the right audio", () => {
    for (const [id, text] of Object.entries(DEFAULT_PROMPT_TEXTS)) {
      const reply = chooseReply({ kind: "text", text: renderInstruction(text) }, true);
      expect(REPLY_TEXTS[reply], id).toBe(text);
    }
  });
});

import { describe, expect, it } from "vitest";
import { mulawToPcm16, pcm16ToMulaw } from "../shared/audio/mulaw.ts";
import { loadAudioFixture } from "../test/fixtures/fixtures.ts";
import { mulawLevelDbfs, VadCallerVoice } from "./caller-voice.ts";

/** Feeds a fixture frame by frame as if each frame arrived 20 ms after the previous one, from `startMs`. */
function feed(voice: VadCallerVoice, pcm: Int16Array, startMs: number) {
  const changes = [];
  for (let at = 0, n = 1; at < pcm.length; at += 160, n++) {
    changes.push(...voice.push(pcm.subarray(at, at + 160), startMs + n * 20));
  }
  return changes;
}

describe("VadCallerVoice", () => {
  it("reports onset, confirmation and offset of caller speech on the wall clock", () => {
    const speech = loadAudioFixture("opening-hours", "speech");
    const voice = new VadCallerVoice({ minSpeechMs: 400 });
    const changes = feed(voice, speech.pcm, 10_000);
    expect(changes.map((c) => c.kind)).toEqual(["onset", "confirmed", "offset"]);
    const [onset, confirmed, offset] = changes;
    expect(Math.abs(onset!.atMs - (10_000 + speech.onsetMs))).toBeLessThanOrEqual(60);
    expect(confirmed!.atMs - onset!.atMs).toBeGreaterThanOrEqual(400);
    expect(offset!.atMs).toBeLessThanOrEqual(10_000 + speech.onsetMs + speech.speechMs + 60);
  });

  it("does not confirm the echo of what it is told the caller hears", () => {
    const reply = loadAudioFixture("reply", "reply");
    const echo = loadAudioFixture("echo-25db", "echo");
    const guarded = new VadCallerVoice({ minSpeechMs: 400 });
    const confirmed = [];
    for (let at = 0, n = 0; at < echo.pcm.length; at += 160, n++) {
      // What we play now is told to the guard as we send it; the echo comes back later in the caller's audio.
      guarded.farEnd(reply.mulaw.subarray(at, at + 160), n * 20);
      const changes = guarded.push(echo.pcm.subarray(at, at + 160), (n + 1) * 20);
      confirmed.push(...changes.filter((c) => c.kind === "confirmed"));
    }
    expect(confirmed).toEqual([]);
    // The same echo without the far-end reference is taken for speech.
    const unguarded = new VadCallerVoice({ minSpeechMs: 400 });
    expect(feed(unguarded, echo.pcm, 0).some((c) => c.kind === "confirmed")).toBe(true);
  });

  it("measures μ-law levels like PCM levels", () => {
    const pcm = Int16Array.from({ length: 160 }, (_, i) => Math.round(10_000 * Math.sin(i / 3)));
    const level = mulawLevelDbfs(pcm16ToMulaw(pcm));
    const decoded = mulawToPcm16(pcm16ToMulaw(pcm));
    const rms = Math.sqrt(decoded.reduce((sum, s) => sum + s * s, 0) / decoded.length);
    expect(level).toBeCloseTo(20 * Math.log10(rms / 32768), 6);
    expect(mulawLevelDbfs(new Uint8Array(160).fill(0xff))).toBe(-120);
  });
});

import { describe, expect, it } from "vitest";
import { loadAudioFixtures, type SpeechFixture } from "../fixtures/fixtures.ts";
import { BENCH_UTTERANCES, benchCallPlan, benchUtterance, voicedSpan } from "./call-scripts.ts";

/** A tone at `dbfs` RMS for `ms` milliseconds at 8 kHz. */
function tone(ms: number, dbfs: number): Int16Array {
  const amplitude = 32768 * 10 ** (dbfs / 20) * Math.SQRT2;
  return Int16Array.from({ length: ms * 8 }, (_, index) => Math.round(amplitude * Math.sin(index / 3)));
}

function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const fixtures = loadAudioFixtures().filter(
  (fixture): fixture is SpeechFixture =>
    fixture.kind === "speech" && (BENCH_UTTERANCES as readonly string[]).includes(fixture.name),
);

describe("where the simulator hears speech", () => {
  it("ends at the last frame above the threshold, and starts at the first run long enough", () => {
    // A 40 ms blip (too short to count as speech onset), silence, 300 ms of speech, a faint tail.
    const pcm = concat(
      tone(40, -20),
      new Int16Array(8 * 200),
      tone(300, -20),
      tone(100, -60),
      new Int16Array(80),
    );
    const span = voicedSpan(pcm);
    expect(span.lastVoicedEndMs).toBe(540);
    expect(span.speechMs).toBe(300);
  });

  it("counts a voiced last frame that the phone pads with silence", () => {
    const span = voicedSpan(concat(new Int16Array(8 * 100), tone(205, -10)));
    expect(span.lastVoicedEndMs).toBe(320);
  });

  it("refuses audio without speech", () => {
    expect(() => voicedSpan(tone(500, -70))).toThrow(/no speech/);
  });

  it("moves every bench fixture's speech end to a frame boundary inside its audio", () => {
    expect(fixtures.map((fixture) => fixture.name).sort()).toEqual([...BENCH_UTTERANCES].sort());
    for (const fixture of fixtures) {
      const utterance = benchUtterance(fixture);
      expect(utterance.speechEndMs % 20, fixture.name).toBe(0);
      expect(utterance.speechEndMs, fixture.name).toBeGreaterThan(utterance.speechOnsetMs);
      expect(utterance.speechEndMs, fixture.name).toBeLessThanOrEqual(fixture.durationMs + 20);
      expect(utterance.expectedSimSpeechMs, fixture.name).toBeGreaterThan(0);
    }
  });
});

describe("bench call plans", () => {
  const utterances = fixtures.map((fixture) => benchUtterance(fixture));

  it("says three different utterances and talks over the second reply with the third", () => {
    const plan = benchCallPlan(5, utterances, 650);
    expect(new Set(plan.utterances.map((utterance) => utterance.label)).size).toBe(3);
    expect(plan.steps.map((step) => step.kind)).toEqual([
      "waitForReply",
      "say",
      "waitForReply",
      "say",
      "bargeIn",
      "waitForReply",
    ]);
    const bargeIn = plan.steps[4];
    expect(bargeIn?.kind === "bargeIn" && bargeIn.utterance.label).toBe(plan.utterances[2].label);
    expect(bargeIn?.kind === "bargeIn" && bargeIn.afterHeardMs).toBe(650);
  });

  it("gives neighbouring calls different sequences", () => {
    const sequences = Array.from({ length: 100 }, (_, index) =>
      benchCallPlan(index, utterances)
        .utterances.map((utterance) => utterance.label)
        .join(","),
    );
    expect(new Set(sequences).size).toBe(100);
  });
});

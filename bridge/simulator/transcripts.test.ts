import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadAudioFixtures, type SpeechFixture } from "../../test/fixtures/fixtures.ts";
import { Endpointer, pcm16Samples } from "./endpointing.ts";
import { ReplyLibrary } from "./replies.ts";
import { placeholderTranscript, UtteranceCatalogue } from "./transcripts.ts";

const library = ReplyLibrary.load();

/** The envelope a live call would produce for this audio at 16 kHz, fed in 20 ms frames. */
function heardEnvelope(pcm: Uint8Array, gain = 1): number[] {
  const endpointer = new Endpointer({
    sampleRateHz: 16000,
    pauseMs: 300,
    speechThresholdDbfs: -40,
    minSpeechMs: 120,
  });
  const samples = pcm16Samples(pcm).map((sample) =>
    Math.max(-32768, Math.min(32767, Math.round(sample * gain))),
  );
  const all = [...samples, ...new Int16Array(16000)];
  for (let at = 0; at < all.length; at += 320) {
    for (const event of endpointer.push(Int16Array.from(all.slice(at, at + 320))).events) {
      if (event.kind === "turn_end") return event.envelopeDbfs;
    }
  }
  throw new Error("no turn");
}

describe("UtteranceCatalogue", () => {
  it("says honestly that it heard speech, and for how long", () => {
    expect(placeholderTranscript(1432)).toBe("[caller speech, 1.4 s]");
    expect(new UtteranceCatalogue().transcript(new Array(70).fill(-20))).toBe("[caller speech, 1.4 s]");
  });

  it("recognises a known utterance at another rate and level, and nothing else", () => {
    const catalogue = new UtteranceCatalogue();
    const more = library.get("more", 8000);
    catalogue.learn(more.text, more.pcm, 8000);
    const ack = library.get("ack", 24000);
    catalogue.learn(ack.text, ack.pcm, 24000);
    expect(catalogue.recognise(heardEnvelope(library.get("more", 16000).pcm, 0.5))).toBe(more.text);
    expect(catalogue.recognise(heardEnvelope(library.get("ack", 16000).pcm))).toBe(ack.text);
    expect(catalogue.recognise(heardEnvelope(library.get("hours", 16000).pcm))).toBeUndefined();
    expect(catalogue.recognise(heardEnvelope(library.get("digits", 16000).pcm))).toBeUndefined();
  });
});

describe("UtteranceCatalogue.fromManifest with the phone simulator's fixtures", () => {
  const manifest = fileURLToPath(new URL("../../test/fixtures/audio/manifest.json", import.meta.url));

  it("learns every speech fixture and knows each one when it hears it at 8 kHz", () => {
    const catalogue = UtteranceCatalogue.fromManifest(manifest);
    const speech = loadAudioFixtures().filter((f): f is SpeechFixture => f.kind === "speech");
    expect(catalogue.size).toBe(speech.length);
    for (const fixture of speech) {
      const endpointer = new Endpointer({
        sampleRateHz: 8000,
        pauseMs: 700,
        speechThresholdDbfs: -40,
        minSpeechMs: 120,
      });
      const all = Int16Array.from([...fixture.pcm, ...new Int16Array(8000)]);
      let envelope: number[] | undefined;
      for (let at = 0; at < all.length && !envelope; at += 160) {
        for (const event of endpointer.push(all.subarray(at, at + 160)).events) {
          if (event.kind === "turn_end") envelope = event.envelopeDbfs;
        }
      }
      expect(envelope && catalogue.recognise(envelope), fixture.name).toBe(fixture.text);
    }
  });
});

/**
 * What the simulator says the caller said. It cannot recognise speech, so by default it says so honestly:
 * "[caller speech, 1.4 s]". Optionally it knows a few utterances (the espeak-ng fixtures the phone
 * simulator plays) by their fingerprint, the energy envelope of the turn, and then reports their text.
 */
import { readFileSync } from "node:fs";
import { MULAW_SAMPLE_RATE_HZ, mulawToPcm16 } from "../../shared/audio/mulaw.ts";
import { AppError } from "../../shared/errors.ts";
import { BLOCK_MS, Endpointer, pcm16Samples } from "./endpointing.ts";
import { readWav } from "./wav.ts";

export interface KnownUtterance {
  text: string;
  envelopeDbfs: number[];
}

const SMOOTHING_BLOCKS = 5;
const MIN_CORRELATION = 0.8;
const MAX_DURATION_RATIO = 1.2;

export function placeholderTranscript(speechMs: number): string {
  return `[caller speech, ${(speechMs / 1000).toFixed(1)} s]`;
}

/** The envelope smoothed over 100 ms: syllables, not single blocks, carry the match. */
function smooth(envelope: readonly number[]): number[] {
  return envelope.map((_, index) => {
    const from = Math.max(0, index - Math.floor(SMOOTHING_BLOCKS / 2));
    const window = envelope.slice(from, from + SMOOTHING_BLOCKS);
    return window.reduce((sum, value) => sum + value, 0) / window.length;
  });
}

function correlation(a: readonly number[], b: readonly number[]): number {
  const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const meanA = mean(a);
  const meanB = mean(b);
  let covariance = 0;
  let varianceA = 0;
  let varianceB = 0;
  for (let index = 0; index < a.length; index++) {
    const da = (a[index] ?? 0) - meanA;
    const db = (b[index] ?? 0) - meanB;
    covariance += da * db;
    varianceA += da * da;
    varianceB += db * db;
  }
  return varianceA > 0 && varianceB > 0 ? covariance / Math.sqrt(varianceA * varianceB) : 0;
}

export class UtteranceCatalogue {
  readonly #known: KnownUtterance[] = [];

  get size(): number {
    return this.#known.length;
  }

  /**
   * Learns an utterance from its audio, cut into a turn as a live call would cut it. The pause is longer
   * than any pause inside a sentence ("Hello? Is anyone there?"), so the whole utterance is one turn.
   */
  learn(text: string, pcm: Uint8Array, sampleRateHz: number): void {
    const pauseMs = 1000;
    const endpointer = new Endpointer({ sampleRateHz, pauseMs, speechThresholdDbfs: -40, minSpeechMs: 120 });
    const tail = new Int16Array(Math.round((sampleRateHz * (pauseMs + 200)) / 1000));
    const { events } = endpointer.push(pcm16Samples(pcm));
    const closing = endpointer.push(tail).events;
    const end = [...events, ...closing].find((event) => event.kind === "turn_end");
    if (end?.kind !== "turn_end" || end.envelopeDbfs.length < 3) {
      throw new AppError("bad_config", `utterance "${text}": no speech found in its audio`);
    }
    this.#known.push({ text, envelopeDbfs: end.envelopeDbfs });
  }

  /** The text of the known utterance this envelope matches best, if any matches well enough. */
  recognise(envelopeDbfs: readonly number[]): string | undefined {
    if (envelopeDbfs.length < 3) return undefined;
    const heard = smooth(envelopeDbfs);
    let best: { text: string; score: number } | undefined;
    for (const known of this.#known) {
      const ratio = envelopeDbfs.length / known.envelopeDbfs.length;
      if (ratio > MAX_DURATION_RATIO || ratio < 1 / MAX_DURATION_RATIO) continue;
      // Aligned at the onset, over the common length: the end of a turn moves with the level.
      const reference = smooth(known.envelopeDbfs);
      const length = Math.min(heard.length, reference.length);
      const score = correlation(heard.slice(0, length), reference.slice(0, length));
      if (score >= MIN_CORRELATION && (!best || score > best.score)) best = { text: known.text, score };
    }
    return best?.text;
  }

  transcript(envelopeDbfs: readonly number[]): string {
    return this.recognise(envelopeDbfs) ?? placeholderTranscript(envelopeDbfs.length * BLOCK_MS);
  }

  /**
   * Loads a fixture manifest: a JSON array of `{ file, text }` (or `{ fixtures: [...] }`) whose files are
   * 16-bit mono WAV or headerless 8 kHz μ-law (`.ul`, as in test/fixtures/audio), relative to the manifest.
   * Entries of another `kind` than speech (noise, echo, replies) are skipped.
   */
  static fromManifest(manifestPath: string): UtteranceCatalogue {
    const catalogue = new UtteranceCatalogue();
    let entries: unknown;
    try {
      const parsed: unknown = JSON.parse(readFileSync(manifestPath, "utf8"));
      entries = Array.isArray(parsed) ? parsed : (parsed as { fixtures?: unknown } | null)?.fixtures;
    } catch (cause) {
      throw new AppError("bad_config", `utterance manifest ${manifestPath} is not readable JSON`, { cause });
    }
    if (!Array.isArray(entries))
      throw new AppError("bad_config", `${manifestPath}: expected a list of fixtures`);
    for (const entry of entries) {
      const { file, text, kind } = (entry ?? {}) as { file?: unknown; text?: unknown; kind?: unknown };
      if (typeof file !== "string" || typeof text !== "string") continue;
      if (kind !== undefined && kind !== "speech") continue;
      const path = new URL(file, `file://${manifestPath}`);
      if (file.endsWith(".wav")) {
        const { pcm, sampleRateHz } = readWav(readFileSync(path), path.pathname);
        catalogue.learn(text, pcm, sampleRateHz);
      } else if (file.endsWith(".ul")) {
        const samples = mulawToPcm16(new Uint8Array(readFileSync(path)));
        catalogue.learn(
          text,
          new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength),
          MULAW_SAMPLE_RATE_HZ,
        );
      }
    }
    return catalogue;
  }
}

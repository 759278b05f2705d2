/**
 * The simulator's own turn detection, from the caller's audio alone: energy per 20 ms block against a
 * threshold, a minimum run of voiced blocks to call it speech (onset), and a pause long enough to end the
 * turn. It runs on audio time (samples received), so it is deterministic and independent of how fast the
 * audio arrives. It also keeps the turn's energy envelope, the fingerprint of known utterances.
 */
import type { EndpointingSensitivity } from "../../shared/nova-events.ts";

/** Pause that ends a turn, per Nova 2 Sonic's documented sensitivity levels ("Turn-taking controllability"). */
export const PAUSE_MS_BY_SENSITIVITY: Readonly<Record<EndpointingSensitivity, number>> = {
  HIGH: 1500,
  MEDIUM: 1750,
  LOW: 2000,
};

export interface EndpointingOptions {
  sampleRateHz: number;
  /** Silence after speech that ends the turn. */
  pauseMs: number;
  /** A block is voiced when its RMS level is above this (dBFS). */
  speechThresholdDbfs: number;
  /** Voiced audio needed, without a gap, before it counts as speech. */
  minSpeechMs: number;
}

export const DEFAULT_SPEECH_THRESHOLD_DBFS = -40;
export const DEFAULT_MIN_SPEECH_MS = 120;
export const BLOCK_MS = 20;
/** Envelope kept for fingerprinting: enough for 30 s of speech. */
const MAX_ENVELOPE_BLOCKS = 1500;

export type EndpointEvent =
  | { kind: "speech_start"; speechStartAudioMs: number; atAudioMs: number }
  | {
      kind: "turn_end";
      speechStartAudioMs: number;
      lastSpeechAudioMs: number;
      atAudioMs: number;
      /** Level of each 20 ms block from onset to the last voiced block, dBFS. */
      envelopeDbfs: number[];
    };

export function blockLevelDbfs(samples: Int16Array, from: number, to: number): number {
  let sum = 0;
  for (let index = from; index < to; index++) {
    const sample = samples[index] ?? 0;
    sum += sample * sample;
  }
  const rms = Math.sqrt(sum / Math.max(1, to - from));
  return rms < 1 ? -96 : 20 * Math.log10(rms / 32768);
}

/** Little-endian 16-bit PCM bytes as samples (copies only when the bytes are misaligned). */
export function pcm16Samples(pcm: Uint8Array): Int16Array {
  const count = pcm.byteLength >> 1;
  if (pcm.byteOffset % 2 === 0) return new Int16Array(pcm.buffer, pcm.byteOffset, count);
  return new Int16Array(pcm.slice(0, count * 2).buffer);
}

export class Endpointer {
  readonly #options: EndpointingOptions;
  readonly #blockSamples: number;
  #carry = new Int16Array(0);
  #audioMs = 0;
  #voicedRunMs = 0;
  #silenceRunMs = 0;
  #inSpeech = false;
  #speechStartMs = 0;
  #lastSpeechMs = 0;
  #envelope: number[] = [];
  #pendingEnvelope: number[] = [];

  constructor(options: EndpointingOptions) {
    this.#options = options;
    this.#blockSamples = Math.round((options.sampleRateHz * BLOCK_MS) / 1000);
  }

  /** Audio time consumed so far (ms since the first sample). */
  get audioMs(): number {
    return this.#audioMs;
  }

  get inSpeech(): boolean {
    return this.#inSpeech;
  }

  /** Feeds samples; returns what they completed. `voiced` tells whether any block in them was voiced. */
  push(samples: Int16Array): { events: EndpointEvent[]; voiced: boolean } {
    const all = this.#carry.length === 0 ? samples : concat(this.#carry, samples);
    const events: EndpointEvent[] = [];
    let voiced = false;
    let at = 0;
    for (; at + this.#blockSamples <= all.length; at += this.#blockSamples) {
      const level = blockLevelDbfs(all, at, at + this.#blockSamples);
      const isVoiced = level > this.#options.speechThresholdDbfs;
      voiced ||= isVoiced;
      this.#block(level, isVoiced, events);
    }
    this.#carry = all.slice(at);
    return { events, voiced };
  }

  #block(level: number, isVoiced: boolean, events: EndpointEvent[]): void {
    const blockEndMs = this.#audioMs + BLOCK_MS;
    if (!this.#inSpeech) {
      if (isVoiced) {
        this.#voicedRunMs += BLOCK_MS;
        this.#pendingEnvelope.push(level);
      } else {
        this.#voicedRunMs = 0;
        this.#pendingEnvelope = [];
      }
      if (this.#voicedRunMs >= this.#options.minSpeechMs) {
        this.#inSpeech = true;
        this.#speechStartMs = blockEndMs - this.#voicedRunMs;
        this.#lastSpeechMs = blockEndMs;
        this.#silenceRunMs = 0;
        this.#envelope = this.#pendingEnvelope;
        this.#pendingEnvelope = [];
        events.push({ kind: "speech_start", speechStartAudioMs: this.#speechStartMs, atAudioMs: blockEndMs });
      }
    } else {
      if (this.#envelope.length < MAX_ENVELOPE_BLOCKS) this.#envelope.push(level);
      if (isVoiced) {
        this.#lastSpeechMs = blockEndMs;
        this.#silenceRunMs = 0;
      } else {
        this.#silenceRunMs += BLOCK_MS;
        if (this.#silenceRunMs >= this.#options.pauseMs) {
          const voicedBlocks = Math.round((this.#lastSpeechMs - this.#speechStartMs) / BLOCK_MS);
          events.push({
            kind: "turn_end",
            speechStartAudioMs: this.#speechStartMs,
            lastSpeechAudioMs: this.#lastSpeechMs,
            atAudioMs: blockEndMs,
            envelopeDbfs: this.#envelope.slice(0, voicedBlocks),
          });
          this.#inSpeech = false;
          this.#voicedRunMs = 0;
          this.#envelope = [];
        }
      }
    }
    this.#audioMs = blockEndMs;
  }
}

function concat(a: Int16Array, b: Int16Array): Int16Array {
  const out = new Int16Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

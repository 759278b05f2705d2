/**
 * The caller's voice activity, on the call's clock: shared/audio's VAD fed with each inbound frame, its
 * audio-time events turned into wall-clock times (the frame's arrival marks the end of its audio), and its
 * echo guard fed with the level of what the caller is hearing from us at that moment.
 */
import { mulawDecodeSample } from "../shared/audio/mulaw.ts";
import { VoiceActivityDetector } from "../shared/audio/vad.ts";

export type VoiceChange =
  | { kind: "onset"; atMs: number }
  | { kind: "confirmed"; atMs: number }
  | { kind: "offset"; atMs: number };

/** What the call needs from a voice activity detector. */
export interface CallerVoice {
  /** One inbound frame (8 kHz PCM) that arrived at `receivedMs`; returns what changed. */
  push(pcm8k: Int16Array, receivedMs: number): VoiceChange[];
  /** Agent audio (μ-law) that the caller hears from `playAtMs` on: the echo guard's far-end reference. */
  farEnd(mulaw: Uint8Array, playAtMs: number): void;
}

const SILENCE_DBFS = -120;
/** Far-end levels remembered: more than the echo window at 20 ms a frame. */
const FAR_END_SLOTS = 64;
/** Squared sample value of each μ-law code: a frame's level without decoding it. */
const MULAW_ENERGY = Float64Array.from({ length: 256 }, (_, code) => mulawDecodeSample(code) ** 2);

export function mulawLevelDbfs(mulaw: Uint8Array): number {
  let energy = 0;
  for (let i = 0; i < mulaw.length; i++) energy += MULAW_ENERGY[mulaw[i]!]!;
  if (mulaw.length === 0 || energy <= 0) return SILENCE_DBFS;
  return Math.max(SILENCE_DBFS, 10 * Math.log10(energy / mulaw.length / (32768 * 32768)));
}

export class VadCallerVoice implements CallerVoice {
  readonly #vad: VoiceActivityDetector;
  readonly #farEndStartMs = new Float64Array(FAR_END_SLOTS);
  readonly #farEndEndMs = new Float64Array(FAR_END_SLOTS);
  readonly #farEndLevel = new Float64Array(FAR_END_SLOTS);
  #farEndNext = 0;

  constructor(options: { minSpeechMs: number }) {
    this.#vad = new VoiceActivityDetector({ minSpeechMs: options.minSpeechMs });
  }

  push(pcm8k: Int16Array, receivedMs: number): VoiceChange[] {
    const audioEndMs = this.#vad.timeMs + (pcm8k.length / 8000) * 1000;
    const events = this.#vad.process(pcm8k, this.#farEndLevelDbfs(receivedMs - 20, receivedMs));
    if (events.length === 0) return [];
    // Audio time → wall clock: this frame's audio ended when it arrived.
    const wall = (audioMs: number) => receivedMs - (audioEndMs - audioMs);
    return events.map((event): VoiceChange => {
      if (event.type === "onset") return { kind: "onset", atMs: wall(event.onsetMs) };
      if (event.type === "confirmed") return { kind: "confirmed", atMs: wall(event.atMs) };
      return { kind: "offset", atMs: wall(event.offsetMs) };
    });
  }

  farEnd(mulaw: Uint8Array, playAtMs: number): void {
    const slot = this.#farEndNext++ % FAR_END_SLOTS;
    this.#farEndStartMs[slot] = playAtMs;
    this.#farEndEndMs[slot] = playAtMs + mulaw.length / 8;
    this.#farEndLevel[slot] = mulawLevelDbfs(mulaw);
  }

  /** The loudest far-end audio playing at any time in [fromMs, toMs]. */
  #farEndLevelDbfs(fromMs: number, toMs: number): number {
    let loudest = SILENCE_DBFS;
    for (let slot = 0; slot < FAR_END_SLOTS; slot++) {
      if (this.#farEndStartMs[slot]! < toMs && this.#farEndEndMs[slot]! > fromMs) {
        loudest = Math.max(loudest, this.#farEndLevel[slot]!);
      }
    }
    return loudest;
  }
}

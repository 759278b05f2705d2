/**
 * Cached prompt audio: what one prompt sounds like, ready for Twilio: 8 kHz μ-law cut into 20 ms frames,
 * each also kept as the base64 payload of a media frame. Made once, from a deployer's WAV file (any rate:
 * converted with the shared polyphase resampler, in stages when the rate ratio needs it) or from a Nova
 * Sonic rendering (prompt-render.ts), and kept on disk as JSON keyed by a hash of the text, the voice, the
 * model and the format, so that a restart does not render again.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { FRAME_MS, MULAW_FRAME_BYTES, MULAW_SAMPLE_RATE_HZ, pcm16ToMulaw } from "../shared/audio/mulaw.ts";
import { Resampler } from "../shared/audio/resample.ts";
import { AppError } from "../shared/errors.ts";
import { parseJsonText, validate } from "../shared/schema.ts";
import type { PromptId } from "./config-fast-paths.ts";

export const PROMPT_FORMAT = "audio/x-mulaw;rate=8000;frame=20ms";
const MULAW_SILENCE = 0xff;
const MAX_RATIO_TERM = 64;

export interface PromptAudio {
  id: PromptId;
  /** What the caller hears: the configured text, or for a rendering what the model said it spoke. */
  text: string;
  source: "file" | "rendered" | "disk";
  /** 8 kHz μ-law, a whole number of 20 ms frames. */
  mulaw: Uint8Array;
  /** The same audio as base64 media payloads, one per 20 ms frame. */
  frames: readonly string[];
  durationMs: number;
}

function primeFactors(value: number): number[] {
  const factors: number[] = [];
  let rest = value;
  for (let p = 2; p * p <= rest; p++) {
    while (rest % p === 0) {
      factors.push(p);
      rest /= p;
    }
  }
  if (rest > 1) factors.push(rest);
  return factors.sort((a, b) => b - a);
}

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/** Takes factors from `pool` (largest first) while the product stays within `limit` and `fits` holds. */
function takeFactors(pool: number[], fits: (product: number) => boolean): number {
  let product = 1;
  for (let i = 0; i < pool.length; ) {
    const next = product * pool[i]!;
    if (next <= MAX_RATIO_TERM && fits(next)) {
      product = next;
      pool.splice(i, 1);
    } else i++;
  }
  return product;
}

/**
 * Stages that take `fromRateHz` to `toRateHz` with the shared resampler (each up and down factor at most
 * 64), upsampling first so that no intermediate rate falls below the lower of the two.
 */
export function resampleStages(fromRateHz: number, toRateHz: number): Array<[number, number]> {
  const divisor = gcd(fromRateHz, toRateHz);
  const ups = primeFactors(toRateHz / divisor);
  const downs = primeFactors(fromRateHz / divisor);
  if ([...ups, ...downs].some((factor) => factor > MAX_RATIO_TERM)) {
    throw new AppError(
      "bad_config",
      `cannot resample ${fromRateHz} Hz to ${toRateHz} Hz (prime factor > 64)`,
    );
  }
  const floorHz = Math.min(fromRateHz, toRateHz);
  const stages: Array<[number, number]> = [];
  let rateHz = fromRateHz;
  while (ups.length > 0 || downs.length > 0) {
    const up = takeFactors(ups, () => true);
    const down = takeFactors(downs, (product) => (rateHz * up) / product >= floorHz);
    if (up === 1 && down === 1) throw new AppError("internal", "resampling plan made no progress");
    const nextHz = (rateHz * up) / down;
    stages.push([rateHz, nextHz]);
    rateHz = nextHz;
  }
  return stages;
}

export function resampleTo(samples: Int16Array, fromRateHz: number, toRateHz: number): Int16Array {
  let out = samples;
  for (const [from, to] of resampleStages(fromRateHz, toRateHz)) {
    const resampler = new Resampler(from, to);
    const next = new Int16Array(resampler.outputLength(out.length));
    resampler.process(out, next);
    out = next;
  }
  return out;
}

/** 8 kHz μ-law padded with silence to whole 20 ms frames. */
export function toMulawFrames(samples: Int16Array, sampleRateHz: number): Uint8Array {
  const mulaw = pcm16ToMulaw(resampleTo(samples, sampleRateHz, MULAW_SAMPLE_RATE_HZ));
  const frames = Math.ceil(mulaw.length / MULAW_FRAME_BYTES);
  const padded = new Uint8Array(frames * MULAW_FRAME_BYTES).fill(MULAW_SILENCE);
  padded.set(mulaw);
  return padded;
}

export function promptAudio(
  id: PromptId,
  text: string,
  source: PromptAudio["source"],
  mulaw: Uint8Array,
): PromptAudio {
  if (mulaw.length === 0 || mulaw.length % MULAW_FRAME_BYTES !== 0) {
    throw new AppError("internal", `prompt ${id}: audio is not a whole number of 20 ms frames`);
  }
  const frames: string[] = [];
  for (let at = 0; at < mulaw.length; at += MULAW_FRAME_BYTES) {
    frames.push(Buffer.from(mulaw.subarray(at, at + MULAW_FRAME_BYTES)).toString("base64"));
  }
  return { id, text, source, mulaw, frames, durationMs: frames.length * FRAME_MS };
}

/** The cache key: a hash of what determines the audio. */
export function promptKey(parts: { text: string; voiceId: string; modelId: string }): string {
  return createHash("sha256")
    .update(JSON.stringify([parts.text, parts.voiceId, parts.modelId, PROMPT_FORMAT]))
    .digest("hex");
}

const cachedPromptSchema = v.object({
  key: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  format: v.literal(PROMPT_FORMAT),
  /** The text the prompt was made from (the key's text). */
  requestedText: v.string(),
  /** What the caller hears. */
  text: v.string(),
  voiceId: v.string(),
  modelId: v.string(),
  frames: v.pipe(v.array(v.pipe(v.string(), v.length(216))), v.minLength(1), v.maxLength(3000)),
});
type CachedPrompt = v.InferOutput<typeof cachedPromptSchema>;

function cacheFile(dir: string, key: string): string {
  return join(dir, `${key}.json`);
}

/** A rendered prompt kept on disk, or null if there is none (a damaged file counts as none). */
export function readCachedPrompt(dir: string, id: PromptId, key: string): PromptAudio | null {
  let raw: string;
  try {
    raw = readFileSync(cacheFile(dir, key), "utf8");
  } catch {
    return null;
  }
  let cached: CachedPrompt;
  try {
    cached = validate(
      cachedPromptSchema,
      parseJsonText(raw, 4 * 1024 * 1024, "cached prompt"),
      "cached prompt",
    );
  } catch {
    return null;
  }
  if (cached.key !== key) return null;
  const mulaw = Buffer.concat(cached.frames.map((frame) => Buffer.from(frame, "base64")));
  if (mulaw.length !== cached.frames.length * MULAW_FRAME_BYTES) return null;
  return promptAudio(id, cached.text, "disk", new Uint8Array(mulaw));
}

/** Writes a rendered prompt atomically (temporary file, then rename). */
export function writeCachedPrompt(
  dir: string,
  key: string,
  prompt: PromptAudio,
  meta: { requestedText: string; voiceId: string; modelId: string },
): void {
  mkdirSync(dir, { recursive: true });
  const body = {
    key,
    format: PROMPT_FORMAT,
    requestedText: meta.requestedText,
    text: prompt.text,
    voiceId: meta.voiceId,
    modelId: meta.modelId,
    frames: [...prompt.frames],
  } satisfies CachedPrompt;
  const file = cacheFile(dir, key);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(body));
  renameSync(temporary, file);
}

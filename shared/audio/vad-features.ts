/**
 * Per-block features for the voice-activity detector (vad.ts): 10 ms blocks of 8 kHz 16-bit PCM,
 * high-passed at 200 Hz (removes DC and mains hum below the telephone band), then
 *   levelDbfs  RMS level of the block, dBFS (-120 for digital silence)
 *   tiltDb     level minus the level of the block's first difference: high for low-frequency sound
 *              (vowels, hum), low for hiss and fricatives. It tells a change of sound from a change of
 *              loudness of the same noise.
 * The filter state is carried from block to block.
 */

export const VAD_SAMPLE_RATE_HZ = 8000;
export const VAD_BLOCK_MS = 10;
export const VAD_BLOCK_SAMPLES = (VAD_SAMPLE_RATE_HZ * VAD_BLOCK_MS) / 1000;
export const SILENCE_DBFS = -120;

const FULL_SCALE_SQUARED = 32768 * 32768;
const HIGH_PASS_HZ = 200;

/** RMS level of 16-bit PCM in dBFS (SILENCE_DBFS for silence or an empty array). */
export function levelDbfs(pcm: Int16Array): number {
  let energy = 0;
  for (let i = 0; i < pcm.length; i++) energy += pcm[i]! * pcm[i]!;
  return energyToDbfs(energy, pcm.length);
}

function energyToDbfs(energy: number, samples: number): number {
  if (samples === 0 || energy <= 0) return SILENCE_DBFS;
  return Math.max(SILENCE_DBFS, 10 * Math.log10(energy / samples / FULL_SCALE_SQUARED));
}

/** Second-order Butterworth high-pass coefficients (RBJ biquad), normalised by a0. */
function highPassCoefficients(cutoffHz: number, sampleRateHz: number) {
  const omega = (2 * Math.PI * cutoffHz) / sampleRateHz;
  const alpha = Math.sin(omega) / (2 * Math.SQRT1_2);
  const cos = Math.cos(omega);
  const a0 = 1 + alpha;
  return {
    b0: (1 + cos) / 2 / a0,
    b1: -(1 + cos) / a0,
    b2: (1 + cos) / 2 / a0,
    a1: (-2 * cos) / a0,
    a2: (1 - alpha) / a0,
  };
}

const HP = highPassCoefficients(HIGH_PASS_HZ, VAD_SAMPLE_RATE_HZ);

export type BlockFeatures = { levelDbfs: number; tiltDb: number };

/** Streaming feature extractor: call `block` with consecutive 10 ms blocks. */
export class BlockFeatureExtractor {
  private x1 = 0;
  private x2 = 0;
  private y1 = 0;
  private y2 = 0;

  /** Features of pcm[offset, offset + VAD_BLOCK_SAMPLES); writes into `out` (no allocation). */
  block(pcm: Int16Array, offset: number, out: BlockFeatures): void {
    const { b0, b1, b2, a1, a2 } = HP;
    let { x1, x2, y1, y2 } = this;
    let energy = 0;
    let differenceEnergy = 0;
    for (let i = offset; i < offset + VAD_BLOCK_SAMPLES; i++) {
      const x = pcm[i]!;
      const y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
      const difference = y - y1;
      energy += y * y;
      differenceEnergy += difference * difference;
      x2 = x1;
      x1 = x;
      y2 = y1;
      y1 = y;
    }
    // Denormals and endless decay after silence: flush tiny filter state to zero.
    if (Math.abs(y1) < 1e-9 && Math.abs(y2) < 1e-9) {
      y1 = 0;
      y2 = 0;
    }
    this.x1 = x1;
    this.x2 = x2;
    this.y1 = y1;
    this.y2 = y2;
    out.levelDbfs = energyToDbfs(energy, VAD_BLOCK_SAMPLES);
    out.tiltDb = out.levelDbfs - energyToDbfs(differenceEnergy, VAD_BLOCK_SAMPLES);
  }
}

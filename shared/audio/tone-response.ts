/**
 * Measures a resampler with test tones (a stepped sine sweep): each tone runs through a fresh
 * resampler, the filter's start-up transient is skipped, and the steady-state output is fitted by least
 * squares to a sinusoid at the tone's frequency. What the fit leaves over (images, aliases, rounding
 * noise) is the residual. Used by resample.test.ts and the audio benchmark.
 */
import { Resampler } from "./resample.ts";

export type ToneMeasurement = {
  frequencyHz: number;
  /** Output amplitude of the tone over input amplitude, in dB (0 = flat). */
  gainDb: number;
  /** RMS of everything else in the output, relative to the input tone's RMS, in dB. */
  residualDb: number;
};

const TONE_AMPLITUDE = 16000;
const MEASURE_MS = 250;

/** A sine of `frequencyHz` at `rateHz`, rounded to 16 bits. */
export function makeTone(
  frequencyHz: number,
  rateHz: number,
  samples: number,
  amplitude = TONE_AMPLITUDE,
): Int16Array {
  const out = new Int16Array(samples);
  const step = (2 * Math.PI * frequencyHz) / rateHz;
  for (let n = 0; n < samples; n++) out[n] = Math.round(amplitude * Math.sin(step * n + 0.3));
  return out;
}

function toDb(ratio: number): number {
  return 20 * Math.log10(Math.max(ratio, 1e-12));
}

/** Least-squares fit of a·cos + b·sin at `frequencyHz` to `signal`; returns amplitude and residual RMS. */
export function fitSinusoid(
  signal: ArrayLike<number>,
  frequencyHz: number,
  rateHz: number,
): { amplitude: number; residualRms: number } {
  const step = (2 * Math.PI * frequencyHz) / rateHz;
  let cc = 0;
  let ss = 0;
  let cs = 0;
  let yc = 0;
  let ys = 0;
  for (let n = 0; n < signal.length; n++) {
    const c = Math.cos(step * n);
    const s = Math.sin(step * n);
    const y = signal[n]!;
    cc += c * c;
    ss += s * s;
    cs += c * s;
    yc += y * c;
    ys += y * s;
  }
  const det = cc * ss - cs * cs;
  const a = det === 0 ? 0 : (yc * ss - ys * cs) / det;
  const b = det === 0 ? 0 : (ys * cc - yc * cs) / det;
  let residualEnergy = 0;
  for (let n = 0; n < signal.length; n++) {
    const r = signal[n]! - a * Math.cos(step * n) - b * Math.sin(step * n);
    residualEnergy += r * r;
  }
  return { amplitude: Math.hypot(a, b), residualRms: Math.sqrt(residualEnergy / Math.max(1, signal.length)) };
}

/** Runs one tone through a fresh `fromRateHz -> toRateHz` resampler and measures the output. */
export function measureTone(fromRateHz: number, toRateHz: number, frequencyHz: number): ToneMeasurement {
  const resampler = new Resampler(fromRateHz, toRateHz);
  const settleSamples = Math.ceil((resampler.delayMs * 4 * fromRateHz) / 1000) + 16;
  const input = makeTone(frequencyHz, fromRateHz, settleSamples + (MEASURE_MS * fromRateHz) / 1000);
  const output = new Int16Array(resampler.outputLength(input.length));
  resampler.process(input, output);
  const skip = Math.ceil((settleSamples * toRateHz) / fromRateHz);
  const steady = output.subarray(skip);
  // Frequencies above the output's Nyquist fold back: fit the alias.
  const folded = Math.abs(frequencyHz - toRateHz * Math.round(frequencyHz / toRateHz));
  const fit = fitSinusoid(steady, folded, toRateHz);
  const inputRms = TONE_AMPLITUDE / Math.SQRT2;
  return {
    frequencyHz,
    gainDb: toDb(fit.amplitude / TONE_AMPLITUDE),
    residualDb: toDb(fit.residualRms / inputRms),
  };
}

/** Tones from `fromHz` to `toHz` inclusive every `stepHz`. */
export function sweep(fromRateHz: number, toRateHz: number, fromHz: number, toHz: number, stepHz: number) {
  const results: ToneMeasurement[] = [];
  for (let f = fromHz; f <= toHz + 1e-9; f += stepHz) results.push(measureTone(fromRateHz, toRateHz, f));
  return results;
}

import { describe, expect, it } from "vitest";
import { designNyquistLowpass } from "./lowpass-filter.ts";
import { Resampler, resample } from "./resample.ts";
import { measureTone, sweep } from "./tone-response.ts";

const PAIRS = [
  [8000, 16000],
  [8000, 24000],
  [16000, 8000],
  [24000, 8000],
] as const;

const PASSBAND_EDGE_HZ = 3400;
const STOPBAND_EDGE_HZ = 4600;

/** Deterministic noise-like test signal (xorshift), with a tone so that every band has energy. */
function testSignal(samples: number, seed: number): Int16Array {
  let state = seed;
  const out = new Int16Array(samples);
  for (let n = 0; n < samples; n++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[n] = ((state >> 18) & 0x3fff) - 8192 + Math.round(12000 * Math.sin(n / 7));
  }
  return out;
}

function chunked(input: Int16Array, fromRateHz: number, toRateHz: number, seed: number): Int16Array {
  const resampler = new Resampler(fromRateHz, toRateHz);
  const parts: Int16Array[] = [];
  let state = seed;
  for (let offset = 0; offset < input.length; ) {
    state = (state * 1103515245 + 12345) >>> 0;
    const size = Math.min(input.length - offset, state % 7 === 0 ? 0 : (state >>> 8) % 400);
    const chunk = input.subarray(offset, offset + size);
    const out = new Int16Array(resampler.outputLength(chunk.length) + 3);
    const written = resampler.process(chunk, out);
    parts.push(out.slice(0, written));
    offset += size;
  }
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const joined = new Int16Array(total);
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return joined;
}

describe("streaming", () => {
  for (const [from, to] of [...PAIRS, [16000, 24000], [24000, 16000], [8000, 8000]] as const) {
    it(`${from} -> ${to} Hz: chunks of any size give exactly the one-shot output`, () => {
      const input = testSignal(6000, from + to);
      const oneShot = resample(input, from, to);
      expect(oneShot.length).toBe(Math.ceil((input.length * to) / from));
      for (const seed of [1, 2, 3]) {
        const pieces = chunked(input, from, to, seed);
        expect(pieces.length).toBe(oneShot.length);
        expect(pieces).toEqual(oneShot);
      }
    });
  }

  it("20 ms frames give exactly L/M times as many samples, every frame", () => {
    const resampler = new Resampler(24000, 8000);
    const out = new Int16Array(160);
    for (let frame = 0; frame < 5; frame++) {
      expect(resampler.process(testSignal(480, frame + 1), out)).toBe(160);
    }
  });

  it("refuses an output buffer that is too small and keeps its state untouched", () => {
    const resampler = new Resampler(8000, 16000);
    expect(() => resampler.process(new Int16Array(160), new Int16Array(319))).toThrow(/319 samples/);
    expect(resampler.outputLength(160)).toBe(320);
  });

  it("reset() returns to silence", () => {
    const input = testSignal(800, 9);
    const resampler = new Resampler(8000, 24000);
    const first = new Int16Array(2400);
    resampler.process(input, first);
    resampler.reset();
    const second = new Int16Array(2400);
    resampler.process(input, second);
    expect(second).toEqual(first);
  });

  it("upsampling passes every L-th input sample through unchanged, delayed by the filter", () => {
    const input = testSignal(400, 5);
    for (const up of [2, 3]) {
      const resampler = new Resampler(8000, 8000 * up);
      const output = new Int16Array(resampler.outputLength(input.length));
      resampler.process(input, output);
      const delaySamples = designNyquistLowpass(up).halfLength; // at the output rate
      for (let n = 0; n + delaySamples < output.length; n += up) {
        expect(output[n + delaySamples]).toBe(input[n / up]);
      }
    }
  });

  it("saturates instead of wrapping around on full-scale square waves (Gibbs overshoot)", () => {
    const period = 40;
    const input = Int16Array.from({ length: 800 }, (_, n) => (n % period < period / 2 ? 32767 : -32768));
    for (const up of [2, 3]) {
      const output = resample(input, 8000, 8000 * up);
      const delay = designNyquistLowpass(up).halfLength;
      expect(output).toContain(32767);
      expect(output).toContain(-32768);
      // On the plateaus (away from the steps) the overshoot must stay at full scale with the input's
      // sign; wrapping around would flip it.
      for (let n = 4 * delay; n < output.length; n++) {
        const inputTime = (n - delay) / up;
        const inPeriod = inputTime % period;
        const nearStep = Math.min(inPeriod, Math.abs(inPeriod - period / 2), period - inPeriod) < 4;
        if (nearStep) continue;
        const expectedSign = inPeriod < period / 2 ? 1 : -1;
        expect(output[n]! * expectedSign, `sample ${n}`).toBeGreaterThan(25000);
      }
    }
  });
});

describe("frequency response measured with tones", () => {
  for (const [from, to] of PAIRS) {
    it(`${from} -> ${to} Hz: flat within 0.1 dB to 3.4 kHz, images/aliases >= 60 dB down`, () => {
      // Passband: every 50 Hz to 3.4 kHz; the residual holds every image the interpolator leaves
      // (for f <= 3.4 kHz the images lie at >= 4.6 kHz).
      const passband = sweep(from, to, 50, PASSBAND_EDGE_HZ, 50);
      const gains = passband.map((m) => m.gainDb);
      expect(Math.max(...gains) - Math.min(...gains)).toBeLessThanOrEqual(0.1);
      expect(Math.max(...gains.map(Math.abs))).toBeLessThanOrEqual(0.1);
      for (const m of passband) expect(m.residualDb, `${m.frequencyHz} Hz`).toBeLessThanOrEqual(-60);
      if (from > to) {
        // Stopband of the decimator: tones from 4.6 kHz up to the input's Nyquist alias into the output.
        for (const m of sweep(from, to, STOPBAND_EDGE_HZ, from / 2 - 25, 50)) {
          expect(m.gainDb, `${m.frequencyHz} Hz alias`).toBeLessThanOrEqual(-60);
          expect(m.residualDb, `${m.frequencyHz} Hz rest`).toBeLessThanOrEqual(-60);
        }
      }
    });
  }

  it("the sweep can fail: a tone in the transition band is neither flat nor fully rejected", () => {
    const edge = measureTone(16000, 8000, 4200);
    expect(edge.gainDb).toBeGreaterThan(-60);
    expect(edge.gainDb).toBeLessThan(-1);
  });
});

/**
 * Kaiser-windowed sinc low-pass prototypes for the polyphase resampler (resample.ts).
 *
 * The prototype runs at the resampler's intermediate rate L·fromRateHz and cuts off at half the lower
 * of the two rates, i.e. exactly 1/zeroSpacing of its own Nyquist band, where zeroSpacing = max(L, M).
 * Such a filter is a Nyquist(zeroSpacing) filter: every zeroSpacing-th tap from the centre is zero
 * (set exactly to 0 here), which the resampler skips.
 *
 * Specification, relative to the lower rate's Nyquist frequency fN (fN = 4 kHz for 8 kHz telephone audio):
 *   passband   0 .. 0.85·fN  (3.4 kHz)  flat within 0.1 dB (Kaiser gives ~0.015 dB)
 *   stopband   >= 1.15·fN    (4.6 kHz)  at least 60 dB down (designed for 61 dB)
 * The transition band is symmetric about fN: 4.6 kHz is where the images of the 0..3.4 kHz band start
 * when upsampling 8 kHz audio, and what aliases down to 3.4 kHz when decimating to 8 kHz.
 *
 * Lengths and Kaiser betas are the smallest found to meet that specification by a search over odd
 * lengths and beta in steps of 0.05 (response evaluated on a 6,000-point grid); the tests in
 * resample.test.ts measure it again with sine tones through the streaming resampler.
 */

/** Half length (taps either side of the centre) and Kaiser beta per zero spacing. */
const DESIGNS: ReadonlyMap<number, { halfLength: number; beta: number }> = new Map([
  [2, { halfLength: 27, beta: 5.9 }],
  [3, { halfLength: 37, beta: 5.75 }],
]);

/** For other spacings (not used on the call path): 12.5 low-rate periods either side was enough for 4 and 6. */
function fallbackDesign(zeroSpacing: number): { halfLength: number; beta: number } {
  let halfLength = Math.ceil(12.5 * zeroSpacing);
  if (halfLength % zeroSpacing === 0) halfLength += 1;
  return { halfLength, beta: 5.75 };
}

/** Zeroth-order modified Bessel function of the first kind (power series; converges fast for x < 20). */
export function besselI0(x: number): number {
  const quarterSquare = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 60; k++) {
    term *= quarterSquare / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

export type LowpassPrototype = {
  /** Taps at the intermediate rate; symmetric, odd length, centre at `halfLength`. */
  readonly taps: Float64Array;
  readonly halfLength: number;
  readonly zeroSpacing: number;
  readonly beta: number;
};

/**
 * The Nyquist(zeroSpacing) low-pass prototype with unit DC gain (taps sum to 1). Callers scale it.
 * zeroSpacing 1 means no rate change: a single unit tap.
 */
export function designNyquistLowpass(zeroSpacing: number): LowpassPrototype {
  if (!Number.isInteger(zeroSpacing) || zeroSpacing < 1) {
    throw new RangeError(`zeroSpacing must be a positive integer, got ${zeroSpacing}`);
  }
  if (zeroSpacing === 1) return { taps: Float64Array.of(1), halfLength: 0, zeroSpacing, beta: 0 };
  const { halfLength, beta } = DESIGNS.get(zeroSpacing) ?? fallbackDesign(zeroSpacing);
  const taps = new Float64Array(2 * halfLength + 1);
  const windowNorm = besselI0(beta);
  let sum = 0;
  for (let j = 0; j < taps.length; j++) {
    const offset = j - halfLength;
    if (offset !== 0 && offset % zeroSpacing === 0) continue; // exact Nyquist zero
    const x = offset / zeroSpacing;
    const sinc = offset === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const ratio = offset / halfLength;
    const window = besselI0(beta * Math.sqrt(Math.max(0, 1 - ratio * ratio))) / windowNorm;
    taps[j] = sinc * window;
    sum += taps[j]!;
  }
  for (let j = 0; j < taps.length; j++) taps[j] = taps[j]! / sum;
  return { taps, halfLength, zeroSpacing, beta };
}

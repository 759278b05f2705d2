/**
 * Streaming rational (L/M) polyphase resampler for 16-bit PCM, e.g. 8 kHz telephone audio <-> the
 * model's 8/16/24 kHz LPCM. Filter state is carried across calls: feeding a signal in chunks of any
 * size gives exactly the samples that one call with the whole signal gives.
 *
 * Output sample n is the prototype low-pass (lowpass-filter.ts) applied to the zero-stuffed input at
 * time n·M/L input samples, computed only from the taps that meet real input samples (the polyphase
 * form) and skipping the prototype's exact Nyquist zeros: upsampling by L passes every L-th output
 * straight through as a one-tap phase, decimating by M skips every M-th tap.
 *
 * Latency: the filter is linear-phase; its group delay is `delayMs` (about 1.5-1.7 ms here).
 * The output is exactly L/M as many samples as the input over the life of the stream; the first
 * `delayMs` of output is the filter filling up from silence.
 */
import { AppError } from "../errors.ts";
import { designNyquistLowpass } from "./lowpass-filter.ts";

const INITIAL_CAPACITY_SAMPLES = 2048;

function greatestCommonDivisor(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/** Rounds half up and saturates (Math.round is several times slower in V8 here). */
function toInt16(value: number): number {
  if (value >= 32767) return 32767;
  if (value <= -32768) return -32768;
  return ((value + 32768.5) | 0) - 32768;
}

function checkRate(name: string, rateHz: number): void {
  if (!Number.isInteger(rateHz) || rateHz <= 0 || rateHz > 384000) {
    throw new AppError("internal", `${name} must be a positive integer rate in Hz, got ${rateHz}`);
  }
}

/** A run of non-zero taps applied with a fixed stride to the input history. */
type Run = { back: number; stride: number; coefficients: number[] };

/**
 * Splits the prototype into L phases; within a phase, groups taps by residue modulo the stride at which
 * Nyquist zeros recur, trims zero taps from the ends of each group, and drops empty groups.
 * Tap k of phase p multiplies x[i - k] where x[i] is the newest input sample for the output.
 */
function buildRuns(taps: Float64Array, zeroSpacing: number, up: number): Run[][] {
  const stride = zeroSpacing / greatestCommonDivisor(up, zeroSpacing);
  const phases: Run[][] = [];
  for (let phase = 0; phase < up; phase++) {
    const phaseTaps: number[] = [];
    for (let j = phase; j < taps.length; j += up) phaseTaps.push(taps[j]!);
    let phaseSum = 0;
    for (const tap of phaseTaps) phaseSum += tap;
    const runs: Run[] = [];
    for (let residue = 0; residue < stride; residue++) {
      const ks: number[] = [];
      for (let k = residue; k < phaseTaps.length; k += stride) ks.push(k);
      while (ks.length > 0 && phaseTaps[ks[0]!] === 0) ks.shift();
      while (ks.length > 0 && phaseTaps[ks[ks.length - 1]!] === 0) ks.pop();
      if (ks.length === 0) continue;
      // Oldest input first: start at the largest k and walk forward in time.
      const oldestFirst = ks.reverse();
      runs.push({
        back: oldestFirst[0]!,
        stride,
        // Each phase sums to exactly 1: DC passes unchanged, whatever the phase.
        coefficients: oldestFirst.map((k) => phaseTaps[k]! / phaseSum),
      });
    }
    phases.push(runs);
  }
  return phases;
}

export class Resampler {
  readonly fromRateHz: number;
  readonly toRateHz: number;
  /** Interpolation factor L. */
  readonly up: number;
  /** Decimation factor M. */
  readonly down: number;
  /** Group delay of the filter, in ms. */
  readonly delayMs: number;
  /** Prototype length in taps (at the intermediate rate L·fromRateHz). */
  readonly prototypeTaps: number;
  /** Mean multiply-adds per output sample (the per-sample cost). */
  readonly macsPerOutput: number;

  private readonly phaseRunStart: Int32Array;
  private readonly runBack: Int32Array;
  private readonly runStride: Int32Array;
  private readonly runCoefficientStart: Int32Array;
  private readonly coefficients: Float64Array;
  private readonly maxBack: number;
  private readonly stepIndex: number;
  private readonly stepPhase: number;
  /** Per phase: how far back the one input sample it copies lies (a single unit tap), or -1. */
  private readonly phaseCopyBack: Int32Array;
  /** Every run's stride equals the decimation factor, so computeFour can reuse input loads. */
  private readonly blockable: boolean;

  private history: Float64Array;
  /** Valid samples in `history`. */
  private historyLength = 0;
  /** Index in `history` of the newest input sample of the next output, and that output's phase. */
  private index = 0;
  private phase = 0;

  constructor(fromRateHz: number, toRateHz: number) {
    checkRate("fromRateHz", fromRateHz);
    checkRate("toRateHz", toRateHz);
    const divisor = greatestCommonDivisor(fromRateHz, toRateHz);
    this.fromRateHz = fromRateHz;
    this.toRateHz = toRateHz;
    this.up = toRateHz / divisor;
    this.down = fromRateHz / divisor;
    if (this.up > 64 || this.down > 64) {
      throw new AppError("internal", `resampling ${fromRateHz} -> ${toRateHz} Hz needs L/M above 64`);
    }
    const prototype = designNyquistLowpass(Math.max(this.up, this.down));
    this.prototypeTaps = prototype.taps.length;
    this.delayMs = (prototype.halfLength / (this.up * fromRateHz)) * 1000;

    const phases = buildRuns(prototype.taps, prototype.zeroSpacing, this.up);
    const runs = phases.flat();
    this.phaseRunStart = new Int32Array(this.up + 1);
    this.runBack = Int32Array.from(runs, (run) => run.back);
    this.runStride = Int32Array.from(runs, (run) => run.stride);
    this.runCoefficientStart = new Int32Array(runs.length + 1);
    this.coefficients = Float64Array.from(runs.flatMap((run) => run.coefficients));
    let runIndex = 0;
    for (let phase = 0; phase < this.up; phase++) {
      this.phaseRunStart[phase] = runIndex;
      runIndex += phases[phase]!.length;
    }
    this.phaseRunStart[this.up] = runIndex;
    runs.forEach((run, r) => {
      this.runCoefficientStart[r + 1] = this.runCoefficientStart[r]! + run.coefficients.length;
    });
    this.maxBack = Math.max(0, ...this.runBack);
    this.phaseCopyBack = Int32Array.from(phases, (runs) =>
      runs.length === 1 && runs[0]!.coefficients.length === 1 && runs[0]!.coefficients[0] === 1
        ? runs[0]!.back
        : -1,
    );
    this.macsPerOutput = this.coefficients.length / this.up;
    this.stepIndex = Math.floor(this.down / this.up);
    this.stepPhase = this.down % this.up;
    this.blockable = this.runStride.every((stride) => stride === this.down);
    this.history = new Float64Array(this.maxBack + INITIAL_CAPACITY_SAMPLES);
    this.reset();
  }

  /** Back to the initial state: silence in the filter, next output aligned with the next input. */
  reset(): void {
    this.history.fill(0, 0, this.maxBack);
    this.historyLength = this.maxBack;
    this.index = this.maxBack;
    this.phase = 0;
  }

  /** Exactly how many samples `process` will write for `inputLength` more input samples. */
  outputLength(inputLength: number): number {
    const ahead = (this.historyLength + inputLength) * this.up - (this.index * this.up + this.phase);
    return ahead > 0 ? Math.ceil(ahead / this.down) : 0;
  }

  /** Resamples `input` into `output` (no allocation once warm); returns the number of samples written. */
  process(input: Int16Array, output: Int16Array): number {
    const count = this.outputLength(input.length);
    if (output.length < count) {
      throw new AppError(
        "internal",
        `Resampler.process: output holds ${output.length} samples, ${count} needed`,
      );
    }
    this.append(input);
    let n = 0;
    if (this.blockable) {
      // Four outputs of the same phase at a time: they share every coefficient load and, since they are
      // one stride apart, each input sample loaded serves all four.
      const blockOutputs = 4 * this.up;
      for (; n + blockOutputs <= count; n += blockOutputs) {
        let index = this.index;
        let phase = this.phase;
        for (let j = 0; j < this.up; j++) {
          this.computeFour(index, phase, output, n + j);
          index += this.stepIndex;
          phase += this.stepPhase;
          if (phase >= this.up) {
            phase -= this.up;
            index += 1;
          }
        }
        this.index += 4 * this.down;
      }
    }
    for (; n < count; n++) {
      output[n] = this.computeOne(this.index, this.phase);
      this.index += this.stepIndex;
      this.phase += this.stepPhase;
      if (this.phase >= this.up) {
        this.phase -= this.up;
        this.index += 1;
      }
    }
    this.discardConsumed();
    return count;
  }

  /** One output whose newest input sample is history[index]. Same operation order as computeFour. */
  private computeOne(index: number, phase: number): number {
    const history = this.history;
    const copyBack = this.phaseCopyBack[phase]!;
    if (copyBack >= 0) return history[index - copyBack]!;
    const coefficients = this.coefficients;
    let acc = 0;
    const runEnd = this.phaseRunStart[phase + 1]!;
    for (let r = this.phaseRunStart[phase]!; r < runEnd; r++) {
      const stride = this.runStride[r]!;
      let position = index - this.runBack[r]!;
      const end = this.runCoefficientStart[r + 1]!;
      for (let c = this.runCoefficientStart[r]!; c < end; c++) {
        acc += coefficients[c]! * history[position]!;
        position += stride;
      }
    }
    return toInt16(acc);
  }

  /**
   * Outputs at index, index + d, index + 2d, index + 3d (d = the decimation factor, equal to every run's
   * stride here) into output[at], output[at + up], output[at + 2up], output[at + 3up].
   */
  private computeFour(index: number, phase: number, output: Int16Array, at: number): void {
    const history = this.history;
    const up = this.up;
    const copyBack = this.phaseCopyBack[phase]!;
    if (copyBack >= 0) {
      const position = index - copyBack;
      const stride = this.down;
      output[at] = history[position]!;
      output[at + up] = history[position + stride]!;
      output[at + 2 * up] = history[position + 2 * stride]!;
      output[at + 3 * up] = history[position + 3 * stride]!;
      return;
    }
    const coefficients = this.coefficients;
    let acc0 = 0;
    let acc1 = 0;
    let acc2 = 0;
    let acc3 = 0;
    const runEnd = this.phaseRunStart[phase + 1]!;
    for (let r = this.phaseRunStart[phase]!; r < runEnd; r++) {
      const stride = this.runStride[r]!;
      let position = index - this.runBack[r]!;
      let x0 = history[position]!;
      let x1 = history[position + stride]!;
      let x2 = history[position + 2 * stride]!;
      position += 3 * stride;
      const end = this.runCoefficientStart[r + 1]!;
      for (let c = this.runCoefficientStart[r]!; c < end; c++) {
        const coefficient = coefficients[c]!;
        const x3 = history[position]!;
        acc0 += coefficient * x0;
        acc1 += coefficient * x1;
        acc2 += coefficient * x2;
        acc3 += coefficient * x3;
        x0 = x1;
        x1 = x2;
        x2 = x3;
        position += stride;
      }
    }
    output[at] = toInt16(acc0);
    output[at + up] = toInt16(acc1);
    output[at + 2 * up] = toInt16(acc2);
    output[at + 3 * up] = toInt16(acc3);
  }

  private append(input: Int16Array): void {
    const needed = this.historyLength + input.length;
    if (needed > this.history.length) {
      const grown = new Float64Array(Math.max(needed, this.history.length * 2));
      grown.set(this.history.subarray(0, this.historyLength));
      this.history = grown;
    }
    this.history.set(input, this.historyLength);
    this.historyLength = needed;
  }

  /** Keeps only the samples that future outputs still reach. */
  private discardConsumed(): void {
    const drop = Math.min(this.index - this.maxBack, this.historyLength);
    if (drop <= 0) return;
    this.history.copyWithin(0, drop, this.historyLength);
    this.historyLength -= drop;
    this.index -= drop;
  }
}

/** Resamples a whole signal at once (fresh filter state; allocates the output). */
export function resample(input: Int16Array, fromRateHz: number, toRateHz: number): Int16Array {
  const resampler = new Resampler(fromRateHz, toRateHz);
  const output = new Int16Array(resampler.outputLength(input.length));
  resampler.process(input, output);
  return output;
}

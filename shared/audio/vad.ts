/**
 * Voice-activity detector for barge-in and turn timing on the caller's 8 kHz 16-bit PCM. Pure and
 * streaming: feed frames of any length (20 ms Twilio frames, 10 ms sub-frames, ...) with `process`, get
 * events back; no timers. Times are ms of audio since the detector started (10 ms resolution).
 *
 * Per 10 ms block it measures the level and spectral tilt of the 200 Hz high-passed signal
 * (vad-features.ts) and tracks the noise floor (follows drops at once, rises at most 5 dB/s, and jumps to
 * any background that has stayed steady for 300 ms). Events:
 *   onset      speech started (raw): `onsetBlocks` blocks at least `onsetMarginDb` above the floor, with
 *              evidence that it is not just louder noise (one block `strongOnsetMarginDb` above the floor,
 *              or a tilt unlike the noise's). `onsetMs` is back-dated to where the level first rose
 *              `onsetLowMarginDb` above the floor: an estimate of the true onset; `atMs` is when it was
 *              decided.
 *   confirmed  the segment has held `minSpeechMs` of active speech: a real turn or barge-in, not a
 *              back-channel ("mm-hm"). Barge-in decisions should use this one.
 *   offset     the segment ended: `hangoverMs` without active blocks (`endedBy: "silence"`), or it turned
 *              out to be steady noise (`endedBy: "noise"`). `offsetMs` is the end of the last active block.
 * Echo guard: pass the level of what is being played to the caller (`farEndLevelDbfs`, e.g. from
 * `levelDbfs(outboundPcm)`). Blocks must then also be louder than the loudest far-end level of the last
 * `echoWindowMs` minus `echoReturnLossDb`, so the reply's own echo does not count as the caller. The default
 * (22 dB) keeps 3 dB of margin to the strongest echo fixture (25 dB return loss) while letting a caller who
 * starts softly over a loud reply be heard within tens of ms (18 dB delayed some onsets by up to 800 ms).
 */
import {
  BlockFeatureExtractor,
  type BlockFeatures,
  SILENCE_DBFS,
  VAD_BLOCK_MS,
  VAD_BLOCK_SAMPLES,
} from "./vad-features.ts";

export { levelDbfs, VAD_BLOCK_MS, VAD_SAMPLE_RATE_HZ } from "./vad-features.ts";

export type VadOptions = {
  onsetMarginDb: number;
  strongOnsetMarginDb: number;
  onsetLowMarginDb: number;
  offsetMarginDb: number;
  tiltChangeDb: number;
  onsetBlocks: number;
  hangoverMs: number;
  minSpeechMs: number;
  echoReturnLossDb: number;
  echoWindowMs: number;
  minNoiseFloorDbfs: number;
};

export const DEFAULT_VAD_OPTIONS: Readonly<VadOptions> = {
  onsetMarginDb: 9,
  strongOnsetMarginDb: 14,
  onsetLowMarginDb: 4,
  offsetMarginDb: 5,
  tiltChangeDb: 2,
  onsetBlocks: 2,
  hangoverMs: 250,
  minSpeechMs: 400,
  echoReturnLossDb: 22,
  echoWindowMs: 400,
  minNoiseFloorDbfs: -70,
};

export type VadEvent =
  | { type: "onset"; onsetMs: number; atMs: number; levelDbfs: number; noiseFloorDbfs: number }
  | { type: "confirmed"; onsetMs: number; atMs: number }
  | {
      type: "offset";
      onsetMs: number;
      offsetMs: number;
      atMs: number;
      confirmed: boolean;
      speechMs: number;
      endedBy: "silence" | "noise";
    };

const NO_EVENTS: readonly VadEvent[] = Object.freeze([]);
const FLOOR_FALL = 0.2;
const FLOOR_RISE = 0.02;
const FLOOR_MAX_RISE_DB = 0.05;
const TILT_FOLLOW = 0.05;
const STEADY_BLOCKS = 30;
const STEADY_LEVEL_STD_DB = 1.5;
const STEADY_TILT_STD_DB = 1;
const BACKDATE_BLOCKS = 10;
/** Blocks after `onsetBlocks` during which the first evidence of speech may still arrive. */
const EVIDENCE_GRACE_BLOCKS = 2;

export class VoiceActivityDetector {
  readonly options: Readonly<VadOptions>;
  private readonly features = new BlockFeatureExtractor();
  private readonly current: BlockFeatures = { levelDbfs: SILENCE_DBFS, tiltDb: 0 };
  private readonly pending = new Int16Array(VAD_BLOCK_SAMPLES);
  private pendingLength = 0;
  private blockIndex = 0;

  private floorDbfs = Number.NaN;
  private tiltFloorDb = 0;
  /** Recent block levels and tilts (ring buffers, newest at blockIndex % length). */
  private readonly levels = new Float64Array(STEADY_BLOCKS);
  private readonly tilts = new Float64Array(STEADY_BLOCKS);
  private readonly farEnd: Float64Array;

  private run = 0;
  private runEvidence = false;
  private runLevelSum = 0;
  private runTiltSum = 0;
  private inSpeech = false;
  private confirmed = false;
  private onsetMs = 0;
  private segmentBlocks = 0;
  private activeBlocks = 0;
  private lastActiveEndMs = 0;
  private events: VadEvent[] = [];

  constructor(options: Partial<VadOptions> = {}) {
    this.options = { ...DEFAULT_VAD_OPTIONS, ...options };
    this.farEnd = new Float64Array(Math.max(1, Math.ceil(this.options.echoWindowMs / VAD_BLOCK_MS)));
    this.farEnd.fill(SILENCE_DBFS);
  }

  /** True from a raw onset until its offset. */
  get speaking(): boolean {
    return this.inSpeech;
  }

  get noiseFloorDbfs(): number {
    return this.floorDbfs;
  }

  /** Audio consumed so far, in ms (whole 10 ms blocks). */
  get timeMs(): number {
    return this.blockIndex * VAD_BLOCK_MS;
  }

  /**
   * Feeds caller audio (8 kHz 16-bit PCM, any length; a partial block waits for the next call).
   * `farEndLevelDbfs`: level of the audio being played to the caller meanwhile (omit when silent).
   */
  process(pcm: Int16Array, farEndLevelDbfs: number = SILENCE_DBFS): readonly VadEvent[] {
    let offset = 0;
    if (this.pendingLength > 0) {
      const take = Math.min(VAD_BLOCK_SAMPLES - this.pendingLength, pcm.length);
      this.pending.set(pcm.subarray(0, take), this.pendingLength);
      this.pendingLength += take;
      offset = take;
      if (this.pendingLength === VAD_BLOCK_SAMPLES) {
        this.pendingLength = 0;
        this.features.block(this.pending, 0, this.current);
        this.step(farEndLevelDbfs);
      }
    }
    for (; offset + VAD_BLOCK_SAMPLES <= pcm.length; offset += VAD_BLOCK_SAMPLES) {
      this.features.block(pcm, offset, this.current);
      this.step(farEndLevelDbfs);
    }
    if (offset < pcm.length) {
      this.pending.set(pcm.subarray(offset), 0);
      this.pendingLength = pcm.length - offset;
    }
    if (this.events.length === 0) return NO_EVENTS;
    const out = this.events;
    this.events = [];
    return out;
  }

  private step(farEndLevelDbfs: number): void {
    const o = this.options;
    const level = this.current.levelDbfs;
    const tilt = this.current.tiltDb;
    const slot = this.blockIndex % STEADY_BLOCKS;
    this.levels[slot] = level;
    this.tilts[slot] = tilt;
    this.farEnd[this.blockIndex % this.farEnd.length] = farEndLevelDbfs;
    const endMs = (this.blockIndex + 1) * VAD_BLOCK_MS;
    if (Number.isNaN(this.floorDbfs)) {
      this.floorDbfs = Math.max(level, o.minNoiseFloorDbfs);
      this.tiltFloorDb = tilt;
    }
    let farEndMax = SILENCE_DBFS;
    for (let i = 0; i < this.farEnd.length; i++) farEndMax = Math.max(farEndMax, this.farEnd[i]!);
    const echoGuardDbfs = farEndMax - o.echoReturnLossDb;

    if (this.inSpeech) {
      this.segmentBlocks++;
      if (level >= this.floorDbfs + o.offsetMarginDb && level >= echoGuardDbfs) {
        this.activeBlocks++;
        this.lastActiveEndMs = endMs;
      }
      if (level < this.floorDbfs) this.fallFloor(level);
      if (!this.confirmed && this.activeBlocks * VAD_BLOCK_MS >= o.minSpeechMs) {
        this.confirmed = true;
        this.events.push({ type: "confirmed", onsetMs: this.onsetMs, atMs: endMs });
      }
      if (this.segmentBlocks >= STEADY_BLOCKS && this.steadyBackground()) {
        this.endSegment(endMs, "noise");
      } else if (endMs - this.lastActiveEndMs >= o.hangoverMs) {
        this.endSegment(endMs, "silence");
      }
    } else {
      const aboveOnset = level >= this.floorDbfs + o.onsetMarginDb && level >= echoGuardDbfs;
      if (aboveOnset) {
        this.run++;
        if (this.run <= o.onsetBlocks + EVIDENCE_GRACE_BLOCKS) {
          this.runEvidence ||=
            level >= this.floorDbfs + o.strongOnsetMarginDb ||
            Math.abs(tilt - this.tiltFloorDb) >= o.tiltChangeDb;
          this.runLevelSum += level;
          this.runTiltSum += tilt;
        } else {
          // Louder, but like the noise so far: most likely the background changed. Speech must now
          // stand out from this run itself; meanwhile the floor keeps following.
          const runBlocks = this.run - 1;
          this.runEvidence ||=
            level >= this.runLevelSum / runBlocks + o.strongOnsetMarginDb - o.onsetMarginDb ||
            Math.abs(tilt - this.runTiltSum / runBlocks) >= o.tiltChangeDb;
          this.runLevelSum += level;
          this.runTiltSum += tilt;
          if (!this.runEvidence && this.trackNoise(level, tilt, farEndMax)) this.resetRun();
        }
        if (this.run >= o.onsetBlocks && this.runEvidence) this.startSegment(endMs, echoGuardDbfs);
      } else {
        this.resetRun();
        this.trackNoise(level, tilt, farEndMax);
      }
    }
    this.blockIndex++;
  }

  private resetRun(): void {
    this.run = 0;
    this.runEvidence = false;
    this.runLevelSum = 0;
    this.runTiltSum = 0;
  }

  /** Follows the background while nobody speaks; true if it adopted a steady new background. */
  private trackNoise(level: number, tilt: number, farEndMax: number): boolean {
    if (level < this.floorDbfs) {
      this.fallFloor(level);
    } else if (farEndMax < this.floorDbfs) {
      // Rise slowly, and not while our own audio may be echoing back.
      this.floorDbfs += Math.min(FLOOR_RISE * (level - this.floorDbfs), FLOOR_MAX_RISE_DB);
    }
    this.tiltFloorDb += TILT_FOLLOW * (tilt - this.tiltFloorDb);
    return this.blockIndex >= STEADY_BLOCKS && this.steadyBackground();
  }

  private fallFloor(level: number): void {
    this.floorDbfs = Math.max(
      this.options.minNoiseFloorDbfs,
      this.floorDbfs + FLOOR_FALL * (level - this.floorDbfs),
    );
  }

  /**
   * If the last 300 ms were steady in level and tilt (noise, not speech), adopts them as the floor.
   * Returns whether it did.
   */
  private steadyBackground(): boolean {
    const levelStats = meanAndStd(this.levels);
    const tiltStats = meanAndStd(this.tilts);
    if (levelStats.std >= STEADY_LEVEL_STD_DB || tiltStats.std >= STEADY_TILT_STD_DB) return false;
    this.floorDbfs = Math.max(this.options.minNoiseFloorDbfs, levelStats.mean - 1);
    this.tiltFloorDb = tiltStats.mean;
    return true;
  }

  private startSegment(endMs: number, echoGuardDbfs: number): void {
    const o = this.options;
    // Back-date to the first block of the rise (at most 100 ms back).
    const rise = Math.max(this.floorDbfs + o.onsetLowMarginDb, echoGuardDbfs);
    let first = this.blockIndex - this.run + 1;
    const earliest = Math.max(0, this.blockIndex - Math.min(BACKDATE_BLOCKS, STEADY_BLOCKS - 1));
    while (first - 1 >= earliest && this.levels[(first - 1) % STEADY_BLOCKS]! >= rise) first--;
    this.inSpeech = true;
    this.confirmed = false;
    this.onsetMs = first * VAD_BLOCK_MS;
    this.segmentBlocks = this.blockIndex - first + 1;
    this.activeBlocks = this.run;
    this.lastActiveEndMs = endMs;
    this.events.push({
      type: "onset",
      onsetMs: this.onsetMs,
      atMs: endMs,
      levelDbfs: this.current.levelDbfs,
      noiseFloorDbfs: this.floorDbfs,
    });
    if (!this.confirmed && this.activeBlocks * VAD_BLOCK_MS >= o.minSpeechMs) {
      this.confirmed = true;
      this.events.push({ type: "confirmed", onsetMs: this.onsetMs, atMs: endMs });
    }
  }

  private endSegment(endMs: number, endedBy: "silence" | "noise"): void {
    this.events.push({
      type: "offset",
      onsetMs: this.onsetMs,
      offsetMs: endedBy === "noise" ? endMs : this.lastActiveEndMs,
      atMs: endMs,
      confirmed: this.confirmed,
      speechMs: this.activeBlocks * VAD_BLOCK_MS,
      endedBy,
    });
    this.inSpeech = false;
    this.confirmed = false;
    this.resetRun();
  }
}

function meanAndStd(values: Float64Array): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(squares / values.length) };
}

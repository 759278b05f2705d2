/**
 * The benchmark's calls: hear the greeting, say A and hear the answer, say B and talk over its answer
 * with C (the barge-in), hear C's answer. A, B and C are distinct speech fixtures, chosen per call so
 * that neighbouring calls say different things (which also tells their simulator sessions apart).
 *
 * The caller's "last speech frame" is the last 20 ms frame the simulator will count as voiced — the
 * same level per block and threshold as its endpointer — so that the phone's send time of that frame
 * and the simulator's arrival time of it (TurnRecord.lastSpeechFrameAtMs) are two ends of one hop.
 */

import {
  blockLevelDbfs,
  DEFAULT_MIN_SPEECH_MS,
  DEFAULT_SPEECH_THRESHOLD_DBFS,
} from "../../bridge/simulator/endpointing.ts";
import { FRAME_MS, MULAW_FRAME_BYTES } from "../../shared/audio/mulaw.ts";
import type { SpeechFixture } from "../fixtures/fixtures.ts";
import type { CallStep, Utterance } from "../phone/phone-call.ts";
import { utteranceOf } from "../phone/script.ts";

/** Fixtures that the simulator answers with speech (no tool call, no back-channel). */
export const BENCH_UTTERANCES = [
  "order-status",
  "opening-hours",
  "yes-please",
  "not-right",
  "delivery-address",
  "repeat-that",
  "account-number",
  "hello-anyone",
  "refund-wait",
] as const;

/** Where the simulator's endpointer finds speech in an utterance, frame by frame as the phone sends it. */
export interface VoicedSpan {
  /** End of the last voiced 20 ms frame, from the utterance's start. */
  lastVoicedEndMs: number;
  /** Speech as the simulator measures it: start of the first run of voiced frames long enough to count,
   * to the end of the last voiced frame (TurnRecord.speechMs). */
  speechMs: number;
}

export function voicedSpan(
  pcm8k: Int16Array,
  thresholdDbfs = DEFAULT_SPEECH_THRESHOLD_DBFS,
  minSpeechMs = DEFAULT_MIN_SPEECH_MS,
): VoicedSpan {
  const frameSamples = MULAW_FRAME_BYTES;
  const frames = Math.ceil(pcm8k.length / frameSamples);
  let lastVoiced = -1;
  let runStart = -1;
  let speechStart = -1;
  for (let frame = 0; frame < frames; frame++) {
    // The phone pads the last frame with μ-law silence, which decodes to 0.
    const block = new Int16Array(frameSamples);
    block.set(pcm8k.subarray(frame * frameSamples, (frame + 1) * frameSamples));
    const voiced = blockLevelDbfs(block, 0, frameSamples) > thresholdDbfs;
    if (!voiced) {
      runStart = -1;
      continue;
    }
    lastVoiced = frame;
    if (runStart < 0) runStart = frame;
    if (speechStart < 0 && (frame - runStart + 1) * FRAME_MS >= minSpeechMs) speechStart = runStart;
  }
  if (lastVoiced < 0 || speechStart < 0) throw new Error("no speech the simulator would hear");
  return {
    lastVoicedEndMs: (lastVoiced + 1) * FRAME_MS,
    speechMs: (lastVoiced + 1 - speechStart) * FRAME_MS,
  };
}

export interface BenchUtterance extends Utterance {
  /** What the simulator should measure as this utterance's speech (a check of the frame alignment). */
  expectedSimSpeechMs: number;
}

/** The fixture as the phone says it, its speech end moved to the simulator's last voiced frame. */
export function benchUtterance(fixture: SpeechFixture): BenchUtterance {
  const span = voicedSpan(fixture.pcm);
  // The phone stamps speechEndMs when it sends the frame holding this instant: the last voiced one.
  return { ...utteranceOf(fixture), speechEndMs: span.lastVoicedEndMs, expectedSimSpeechMs: span.speechMs };
}

export interface BenchCallPlan {
  callIndex: number;
  steps: CallStep[];
  /** A, B, C in the order spoken; C is the barge-in. */
  utterances: [BenchUtterance, BenchUtterance, BenchUtterance];
  bargeInAfterHeardMs: number;
}

/** Every ordered choice of three distinct items. */
function orderedTriples(count: number): Array<[number, number, number]> {
  const triples: Array<[number, number, number]> = [];
  for (let a = 0; a < count; a++)
    for (let b = 0; b < count; b++)
      for (let c = 0; c < count; c++) if (a !== b && b !== c && a !== c) triples.push([a, b, c]);
  return triples;
}

/** The call plan of call `callIndex`: consecutive calls get far-apart choices of A, B, C. */
export function benchCallPlan(
  callIndex: number,
  utterances: readonly BenchUtterance[],
  bargeInAfterHeardMs = 700,
): BenchCallPlan {
  if (utterances.length < 3) throw new Error("a bench call needs at least three utterances");
  const triples = orderedTriples(utterances.length);
  // A stride coprime with the number of triples visits all of them before repeating.
  let stride = 37;
  while (gcd(stride, triples.length) !== 1) stride += 1;
  const [a, b, c] = triples[(callIndex * stride) % triples.length]!;
  const chosen: [BenchUtterance, BenchUtterance, BenchUtterance] = [
    utterances[a]!,
    utterances[b]!,
    utterances[c]!,
  ];
  return {
    callIndex,
    utterances: chosen,
    bargeInAfterHeardMs,
    steps: [
      { kind: "waitForReply" },
      { kind: "say", utterance: chosen[0] },
      { kind: "waitForReply" },
      { kind: "say", utterance: chosen[1] },
      { kind: "bargeIn", utterance: chosen[2], afterHeardMs: bargeInAfterHeardMs, timeoutMs: 30_000 },
      { kind: "waitForReply", timeoutMs: 30_000 },
    ],
  };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

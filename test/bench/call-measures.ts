/**
 * One benchmark call, measured: every timestamp below is epoch ms on the clock all processes share
 * (performance.timeOrigin + performance.now()), so a difference between two processes is a hop.
 *
 *   reply turn   phone sends the last voiced frame → simulator receives it         (upstream)
 *                simulator: endpointing pause + drawn latency → first reply audio  (model, not ours)
 *                simulator sends the first reply audio → phone receives the frame  (downstream)
 *                downstream split by the bridge's record: sim → bridge (HTTP/2, SDK, decode),
 *                bridge in → first frame out, bridge → phone (WebSocket, Durable Object, and
 *                `wrangler dev`'s proxy when the edge runs under it)
 *   greeting     phone `start` → simulator gets the greeting request → first audio → phone frame / heard
 *   barge-in     caller speech onset (phone) → `clear` received; reply audio heard after the onset
 */
import type { SessionRecord, TurnRecord as SimTurn } from "../../bridge/simulator/records.ts";
import type { CallResult, TurnResult } from "../phone/phone-call.ts";
import type { BridgeTurn, CallRecordView } from "../phone/waterfall.ts";
import type { BenchCallPlan } from "./call-scripts.ts";
import { simTurnFor } from "./session-matching.ts";

/** A gap in play-out shorter than this is an underrun inside a reply, not the silence between turns. */
export const UNDERRUN_MAX_GAP_MS = 500;

export interface ReplyTurnMeasure {
  label: string;
  /** The caller said this over the previous reply. */
  spokenOverReply: boolean;
  phoneSpeechEndMs: number;
  phoneFirstFrameMs: number | null;
  phoneFirstHeardMs: number | null;
  simLastSpeechFrameAtMs: number | null;
  simEndpointAtMs: number | null;
  simFirstAudioOutAtMs: number | null;
  bridgeFirstModelAudioMs: number | null;
  bridgeFirstFrameSentMs: number | null;
  upstreamMs: number | null;
  modelMs: number | null;
  downstreamMs: number | null;
  systemMs: number | null;
  simToBridgeMs: number | null;
  bridgeInsideMs: number | null;
  bridgeToPhoneMs: number | null;
  /** The simulator measured as much speech as the bench expected (frames aligned as assumed). */
  speechAligned: boolean | null;
}

export interface GreetingMeasure {
  streamStartMs: number;
  firstFrameMs: number | null;
  firstHeardMs: number | null;
  /** `start` sent → the simulator received the greeting request (edge, bridge, session adoption). */
  startToRequestMs: number | null;
  modelMs: number | null;
  /** Simulator's first greeting audio → phone's first frame. */
  downstreamMs: number | null;
}

export interface BargeInMeasure {
  onsetMs: number;
  onsetToClearMs: number | null;
  heardAfterOnsetMs: number;
  /** Onset → the bridge sent `clear` (it holds the reply at its VAD's onset, or cuts on the model's signal). */
  onsetToClearSentMs: number | null;
  /** Onset → the simulator declared the interruption (transit + the model's own detection). */
  onsetToSimInterruptMs: number | null;
  /** The simulator declared the interruption → the bridge sent `clear` (negative: the reply was held first). */
  simInterruptToClearSentMs: number | null;
  /** The bridge sent `clear` → the phone received it. */
  clearTransitMs: number | null;
  interruptedBy: string | null;
}

export interface CallMeasure {
  callIndex: number;
  callSid: string;
  sessionId: string | null;
  startedAtMs: number;
  durationMs: number;
  failures: string[];
  greeting: GreetingMeasure | null;
  turns: ReplyTurnMeasure[];
  bargeIn: BargeInMeasure | null;
  underruns: number;
  underrunGapsMs: number[];
  clears: number;
}

export interface CallOutcome {
  plan: BenchCallPlan;
  startedAtMs: number;
  endedAtMs: number;
  callSid: string;
  result: CallResult | null;
  error: string | null;
  record: CallRecordView | null;
  recordError: string | null;
}

function diff(fromMs: number | null | undefined, toMs: number | null | undefined): number | null {
  if (fromMs === null || fromMs === undefined || toMs === null || toMs === undefined) return null;
  return toMs - fromMs;
}

function sum(...parts: Array<number | null>): number | null {
  let total = 0;
  for (const part of parts) {
    if (part === null) return null;
    total += part;
  }
  return total;
}

/** The bridge's turn for the caller's words: same text, its VAD end closest to the phone's speech end. */
function bridgeTurnFor(
  text: string,
  speechEndMs: number,
  turns: readonly BridgeTurn[],
): BridgeTurn | undefined {
  let best: BridgeTurn | undefined;
  let bestGap = Number.POSITIVE_INFINITY;
  for (const turn of turns) {
    if (turn.userText !== text) continue;
    const gap = Math.abs((turn.timings.callerSpeechEndMs ?? speechEndMs + 5000) - speechEndMs);
    if (gap < bestGap) {
      best = turn;
      bestGap = gap;
    }
  }
  return best;
}

function measureTurn(
  phone: TurnResult,
  expectedSimSpeechMs: number,
  session: SessionRecord | null,
  record: CallRecordView | null,
): { measure: ReplyTurnMeasure; sim: SimTurn | undefined; bridge: BridgeTurn | undefined } {
  const text = phone.text ?? phone.label;
  const sim = session ? simTurnFor({ text, speechEndMs: phone.speechEndMs }, session.turns) : undefined;
  const bridge = record ? bridgeTurnFor(text, phone.speechEndMs, record.turns) : undefined;
  const upstreamMs = diff(phone.speechEndMs, sim?.lastSpeechFrameAtMs);
  const modelMs = diff(sim?.lastSpeechFrameAtMs, sim?.firstAudioOutAtMs);
  const downstreamMs = diff(sim?.firstAudioOutAtMs, phone.firstReplyFrameMs);
  return {
    sim,
    bridge,
    measure: {
      label: phone.label,
      spokenOverReply: phone.bargeIn !== null,
      phoneSpeechEndMs: phone.speechEndMs,
      phoneFirstFrameMs: phone.firstReplyFrameMs,
      phoneFirstHeardMs: phone.firstHeardMs,
      simLastSpeechFrameAtMs: sim?.lastSpeechFrameAtMs ?? null,
      simEndpointAtMs: sim?.endpointAtMs ?? null,
      simFirstAudioOutAtMs: sim?.firstAudioOutAtMs ?? null,
      bridgeFirstModelAudioMs: bridge?.timings.firstModelAudioMs ?? null,
      bridgeFirstFrameSentMs: bridge?.timings.firstFrameSentMs ?? null,
      upstreamMs,
      modelMs,
      downstreamMs,
      systemMs: sum(upstreamMs, downstreamMs),
      simToBridgeMs: diff(sim?.firstAudioOutAtMs, bridge?.timings.firstModelAudioMs),
      bridgeInsideMs: diff(bridge?.timings.firstModelAudioMs, bridge?.timings.firstFrameSentMs),
      bridgeToPhoneMs: diff(bridge?.timings.firstFrameSentMs, phone.firstReplyFrameMs),
      speechAligned: sim?.speechMs === undefined ? null : sim.speechMs === expectedSimSpeechMs,
    },
  };
}

function measureGreeting(result: CallResult, session: SessionRecord | null): GreetingMeasure | null {
  if (result.streamStartMs === null) return null;
  const sim = session?.turns.find((turn) => turn.replyId === "greeting");
  return {
    streamStartMs: result.streamStartMs,
    firstFrameMs: diff(result.streamStartMs, result.greetingFirstFrameMs),
    firstHeardMs: diff(result.streamStartMs, result.greetingFirstHeardMs),
    startToRequestMs: diff(result.streamStartMs, sim?.endpointAtMs),
    modelMs: diff(sim?.endpointAtMs, sim?.firstAudioOutAtMs),
    downstreamMs: diff(sim?.firstAudioOutAtMs, result.greetingFirstFrameMs),
  };
}

/** Everything the bench reports of one call, and why it counts as failed (empty when it did not). */
export function measureCall(outcome: CallOutcome, session: SessionRecord | null): CallMeasure {
  const { plan, result } = outcome;
  const failures: string[] = [];
  const base = {
    callIndex: plan.callIndex,
    callSid: outcome.callSid,
    sessionId: session?.id ?? null,
    startedAtMs: outcome.startedAtMs,
    durationMs: outcome.endedAtMs - outcome.startedAtMs,
  };
  if (!result) {
    return {
      ...base,
      failures: [`call failed: ${outcome.error ?? "no result"}`],
      greeting: null,
      turns: [],
      bargeIn: null,
      underruns: 0,
      underrunGapsMs: [],
      clears: 0,
    };
  }
  if (result.twimlKind !== "stream") failures.push(`no stream: ${result.twiml.slice(0, 120)}`);
  if (result.invalidFrames.length > 0) {
    failures.push(`${result.invalidFrames.length} invalid frames (${result.invalidFrames[0]})`);
  }
  if (result.closeCode !== null && result.closeCode !== 1000 && result.closeCode !== 1005) {
    failures.push(`stream closed with ${result.closeCode}`);
  }
  if (result.greetingFirstHeardMs === null) failures.push("no greeting heard");
  if (!session) failures.push("no simulator session matched");
  if (outcome.recordError) failures.push(`no call record: ${outcome.recordError}`);

  const turns: ReplyTurnMeasure[] = [];
  let bargeIn: BargeInMeasure | null = null;
  let previous: { sim: SimTurn | undefined; bridge: BridgeTurn | undefined } | null = null;
  for (const [index, phone] of result.turns.entries()) {
    const expected = plan.utterances[index]?.expectedSimSpeechMs ?? Number.NaN;
    const { measure, sim, bridge } = measureTurn(phone, expected, session, outcome.record);
    turns.push(measure);
    if (phone.firstReplyFrameMs === null) failures.push(`no reply to "${phone.label}"`);
    if (phone.bargeIn) {
      const clearMs = phone.bargeIn.clearMs;
      if (clearMs === null) failures.push(`barge-in with "${phone.label}": no clear`);
      const cut = previous?.bridge;
      bargeIn = {
        onsetMs: phone.speechOnsetMs,
        onsetToClearMs: diff(phone.speechOnsetMs, clearMs),
        heardAfterOnsetMs: phone.bargeIn.heardAfterOnsetMs,
        onsetToClearSentMs: diff(phone.speechOnsetMs, cut?.timings.clearSentMs),
        onsetToSimInterruptMs: diff(phone.speechOnsetMs, previous?.sim?.interruptedAtMs),
        simInterruptToClearSentMs: diff(previous?.sim?.interruptedAtMs, cut?.timings.clearSentMs),
        clearTransitMs: diff(cut?.timings.clearSentMs, clearMs),
        interruptedBy: cut?.interruptedBy ?? null,
      };
    }
    previous = { sim, bridge };
  }
  if (result.turns.length < plan.utterances.length) {
    failures.push(`only ${result.turns.length} of ${plan.utterances.length} turns spoken`);
  }
  const underrunGapsMs = result.gaps
    .map(([startMs, endMs]) => endMs - startMs)
    .filter((gapMs) => gapMs < UNDERRUN_MAX_GAP_MS);
  return {
    ...base,
    failures,
    greeting: measureGreeting(result, session),
    turns,
    bargeIn,
    underruns: underrunGapsMs.length,
    underrunGapsMs,
    clears: result.clears.length,
  };
}

/**
 * The headline figures of a full-stack run, from the measured calls: one row per figure (count,
 * p50/p95/p99/max) with its target where there is one, the samples behind each row (for histograms),
 * and the failed calls with their reasons. Pure: the printing is in full-stack-table.ts.
 */
import type { CallMeasure, ReplyTurnMeasure } from "./call-measures.ts";
import { type Summary, summarise } from "./percentiles.ts";

export type FigureKey =
  | "systemAdded"
  | "upstream"
  | "downstream"
  | "simToBridge"
  | "bridgeInside"
  | "bridgeToPhone"
  | "model"
  | "endToEnd"
  | "greetingFirstFrame"
  | "greetingFirstHeard"
  | "greetingStartToRequest"
  | "greetingModel"
  | "greetingDownstream"
  | "bargeInClear"
  | "bargeInOnsetToSimInterrupt"
  | "bargeInClearSent"
  | "bargeInClearTransit"
  | "bargeInHeardAfterOnset"
  | "underrunsPerCall";

export interface Target {
  text: string;
  met: boolean;
}

export interface FigureRow {
  key: FigureKey;
  label: string;
  /** Nesting under the row above (a split of it). */
  depth: number;
  unit: "ms" | "count";
  summary: Summary;
  target: Target | null;
}

export interface FailedCall {
  callIndex: number;
  callSid: string;
  reasons: string[];
}

export interface Figures {
  rows: FigureRow[];
  samples: Record<FigureKey, number[]>;
  calls: { placed: number; ok: number; failed: FailedCall[]; byFirstReason: Record<string, number> };
  turns: { expected: number; measured: number; speechAligned: number; speechChecked: number };
  interruptedBy: Record<string, number>;
  underrunsTotal: number;
}

interface RowSpec {
  key: FigureKey;
  label: string;
  depth: number;
  unit?: "ms" | "count";
  target?: { text: string; met: (summary: Summary) => boolean };
}

const ROWS: readonly RowSpec[] = [
  {
    key: "systemAdded",
    label: "system-added (upstream + downstream)",
    depth: 0,
    target: { text: "p50 ≤ 10, p99 ≤ 40", met: (s) => s.p50 <= 10 && s.p99 <= 40 },
  },
  { key: "upstream", label: "upstream: phone → simulator", depth: 1 },
  { key: "downstream", label: "downstream: simulator → phone", depth: 1 },
  { key: "simToBridge", label: "simulator → bridge (HTTP/2, SDK)", depth: 2 },
  { key: "bridgeInside", label: "bridge: model audio in → frame out", depth: 2 },
  { key: "bridgeToPhone", label: "bridge → phone (edge, WebSockets)", depth: 2 },
  { key: "model", label: "model time (pause + latency; not ours)", depth: 0 },
  { key: "endToEnd", label: "caller stops → first reply frame", depth: 0 },
  {
    key: "greetingFirstFrame",
    label: "greeting: first frame after start",
    depth: 0,
    target: { text: "p95 ≤ 50", met: (s) => s.p95 <= 50 },
  },
  {
    key: "greetingFirstHeard",
    label: "greeting: first heard after start",
    depth: 0,
    target: { text: "p95 ≤ 50", met: (s) => s.p95 <= 50 },
  },
  { key: "greetingStartToRequest", label: "start → simulator has the request", depth: 1 },
  { key: "greetingModel", label: "model latency (not ours)", depth: 1 },
  { key: "greetingDownstream", label: "simulator → phone", depth: 1 },
  {
    key: "bargeInClear",
    label: "barge-in: speech onset → clear",
    depth: 0,
    target: { text: "p95 ≤ 150", met: (s) => s.p95 <= 150 },
  },
  { key: "bargeInClearSent", label: "onset → bridge sends clear (VAD hold)", depth: 1 },
  { key: "bargeInClearTransit", label: "bridge sends clear → phone", depth: 1 },
  { key: "bargeInOnsetToSimInterrupt", label: "onset → the model's own signal", depth: 1 },
  {
    key: "bargeInHeardAfterOnset",
    label: "barge-in: reply heard after onset",
    depth: 0,
    target: { text: "p95 ≤ 200", met: (s) => s.p95 <= 200 },
  },
  {
    key: "underrunsPerCall",
    label: "underruns per call (gaps < 500 ms)",
    depth: 0,
    unit: "count",
    target: { text: "0", met: (s) => s.count > 0 && s.max === 0 },
  },
];

function emptySamples(): Record<FigureKey, number[]> {
  return Object.fromEntries(ROWS.map((row) => [row.key, [] as number[]])) as Record<FigureKey, number[]>;
}

function push(values: number[], value: number | null | undefined): void {
  if (value !== null && value !== undefined && Number.isFinite(value)) values.push(value);
}

function addTurn(samples: Record<FigureKey, number[]>, turn: ReplyTurnMeasure): void {
  push(samples.systemAdded, turn.systemMs);
  push(samples.upstream, turn.upstreamMs);
  push(samples.downstream, turn.downstreamMs);
  push(samples.simToBridge, turn.simToBridgeMs);
  push(samples.bridgeInside, turn.bridgeInsideMs);
  push(samples.bridgeToPhone, turn.bridgeToPhoneMs);
  push(samples.model, turn.modelMs);
  if (turn.phoneFirstFrameMs !== null) samples.endToEnd.push(turn.phoneFirstFrameMs - turn.phoneSpeechEndMs);
}

/** A failure reason without its particulars (quoted words, details after a colon or parenthesis). */
export function failureKind(reason: string): string {
  return reason
    .replace(/"[^"]*"/g, "…")
    .replace(/\s*[:(].*$/, "")
    .trim();
}

export function computeFigures(calls: readonly CallMeasure[], turnsPerCall: number): Figures {
  const samples = emptySamples();
  const interruptedBy: Record<string, number> = {};
  let measured = 0;
  let speechAligned = 0;
  let speechChecked = 0;
  for (const call of calls) {
    for (const turn of call.turns) {
      addTurn(samples, turn);
      if (turn.systemMs !== null) measured += 1;
      if (turn.speechAligned !== null) {
        speechChecked += 1;
        if (turn.speechAligned) speechAligned += 1;
      }
    }
    const greeting = call.greeting;
    push(samples.greetingFirstFrame, greeting?.firstFrameMs);
    push(samples.greetingFirstHeard, greeting?.firstHeardMs);
    push(samples.greetingStartToRequest, greeting?.startToRequestMs);
    push(samples.greetingModel, greeting?.modelMs);
    push(samples.greetingDownstream, greeting?.downstreamMs);
    const bargeIn = call.bargeIn;
    if (bargeIn) {
      push(samples.bargeInClear, bargeIn.onsetToClearMs);
      push(samples.bargeInOnsetToSimInterrupt, bargeIn.onsetToSimInterruptMs);
      push(samples.bargeInClearSent, bargeIn.onsetToClearSentMs);
      push(samples.bargeInClearTransit, bargeIn.clearTransitMs);
      push(samples.bargeInHeardAfterOnset, bargeIn.heardAfterOnsetMs);
      const by = bargeIn.interruptedBy ?? "unknown";
      interruptedBy[by] = (interruptedBy[by] ?? 0) + 1;
    }
    if (call.failures.length === 0 || call.turns.length > 0) samples.underrunsPerCall.push(call.underruns);
  }
  const failed = calls
    .filter((call) => call.failures.length > 0)
    .map((call) => ({ callIndex: call.callIndex, callSid: call.callSid, reasons: call.failures }));
  const rows = ROWS.map((spec): FigureRow => {
    const summary = summarise(samples[spec.key]);
    return {
      key: spec.key,
      label: spec.label,
      depth: spec.depth,
      unit: spec.unit ?? "ms",
      summary,
      target: spec.target
        ? { text: spec.target.text, met: summary.count > 0 && spec.target.met(summary) }
        : null,
    };
  });
  const byFirstReason: Record<string, number> = {};
  for (const call of failed) {
    const reason = failureKind(call.reasons[0] ?? "");
    byFirstReason[reason] = (byFirstReason[reason] ?? 0) + 1;
  }
  return {
    rows,
    samples,
    calls: { placed: calls.length, ok: calls.length - failed.length, failed, byFirstReason },
    turns: { expected: calls.length * turnsPerCall, measured, speechAligned, speechChecked },
    interruptedBy,
    underrunsTotal: calls.reduce((total, call) => total + call.underruns, 0),
  };
}

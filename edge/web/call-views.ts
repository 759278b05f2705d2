/**
 * How a call looks on the softphone and the dashboard (pure view trees): the transcript turn by turn,
 * an interrupted reply split into the part the caller heard and the part they did not, and each turn's
 * latency waterfall as SVG bars on one scale per call.
 */
import type { CallView, TurnTimings, TurnView } from "./call-record.ts";
import { h, s, type ViewElement } from "./view-tree.ts";

export interface WaterfallRow {
  key: "uplink" | "model" | "bridge";
  label: string;
  /** Relative to the caller's speech end (the bridge's VAD), in ms. */
  startMs: number;
  endMs: number;
}

/**
 * The turn's path from the caller's speech end to the first reply frame: the bridge's last audio in,
 * the model's first audio, the bridge's first frame out. Null without a speech end (the greeting, a
 * key press); a stage whose timestamps are missing is left out.
 */
export function waterfallRows(timings: TurnTimings): WaterfallRow[] | null {
  const origin = timings.callerSpeechEndMs;
  if (origin === undefined) return null;
  const stages: [WaterfallRow["key"], string, number | undefined][] = [
    ["uplink", "last audio in", timings.lastAudioInputSentMs],
    ["model", "model 1st audio", timings.firstModelAudioMs],
    ["bridge", "bridge 1st frame", timings.firstFrameSentMs],
  ];
  const rows: WaterfallRow[] = [];
  let previous = 0;
  for (const [key, label, atMs] of stages) {
    if (atMs === undefined) continue;
    const at = atMs - origin;
    rows.push({ key, label, startMs: previous, endMs: at });
    previous = at;
  }
  return rows;
}

/** From the caller's speech end to the first reply frame, or null when either is unknown. */
export function responseMs(timings: TurnTimings): number | null {
  const { callerSpeechEndMs, firstFrameSentMs } = timings;
  return callerSpeechEndMs === undefined || firstFrameSentMs === undefined
    ? null
    : firstFrameSentMs - callerSpeechEndMs;
}

/** A round scale (ms) that holds every waterfall of the call. */
export function waterfallScaleMs(turns: readonly TurnView[]): number {
  let longest = 0;
  for (const turn of turns) {
    for (const row of waterfallRows(turn.timings) ?? []) longest = Math.max(longest, row.startMs, row.endMs);
  }
  return Math.max(500, Math.ceil(longest / 250) * 250);
}

export function formatMs(ms: number): string {
  return `${Math.round(ms)} ms`;
}

const LABEL_PX = 112;
const BAR_PX = 240;
const VALUE_PX = 64;
const ROW_PX = 16;

export function waterfallView(rows: readonly WaterfallRow[], scaleMs: number): ViewElement {
  const widthPx = LABEL_PX + BAR_PX + VALUE_PX;
  const heightPx = rows.length * ROW_PX + 4;
  const x = (ms: number) => LABEL_PX + (Math.max(0, Math.min(ms, scaleMs)) / scaleMs) * BAR_PX;
  return s(
    "svg",
    {
      class: "waterfall",
      width: String(widthPx),
      height: String(heightPx),
      viewBox: `0 0 ${widthPx} ${heightPx}`,
      role: "img",
      "aria-label": rows.map((row) => `${row.label} ${formatMs(row.endMs)}`).join(", "),
    },
    s("line", {
      class: "axis",
      x1: String(LABEL_PX),
      x2: String(LABEL_PX),
      y1: "0",
      y2: String(heightPx),
    }),
    rows.map((row, index) => {
      const top = index * ROW_PX + 2;
      const left = x(Math.min(row.startMs, row.endMs));
      const right = x(Math.max(row.startMs, row.endMs));
      return s(
        "g",
        { class: `stage stage-${row.key}`, "data-stage": row.key },
        s("text", { class: "stage-label", x: "0", y: String(top + 11) }, row.label),
        s("rect", {
          x: left.toFixed(1),
          y: String(top + 2),
          width: Math.max(1, right - left).toFixed(1),
          height: String(ROW_PX - 4),
          rx: "2",
        }),
        s(
          "text",
          { class: "stage-value", x: String(right + 4), y: String(top + 11) },
          `+${formatMs(row.endMs - row.startMs)}`,
        ),
      );
    }),
  );
}

/** The reply as the caller got it: heard part, then the unheard rest of an interrupted reply. */
export function replyView(turn: TurnView): ViewElement {
  if (!turn.interrupted) return h("span", { class: "heard" }, turn.assistantText);
  const rest = turn.assistantText.startsWith(turn.heardText)
    ? turn.assistantText.slice(turn.heardText.length)
    : turn.assistantText;
  return h(
    "span",
    {},
    h("span", { class: "heard", title: `heard for ${formatMs(turn.heardMs)}` }, turn.heardText),
    rest === "" ? null : h("span", { class: "unheard", title: "not heard: the caller talked over it" }, rest),
    h(
      "span",
      { class: "badge interrupted" },
      `interrupted${turn.interruptedBy ? ` (${turn.interruptedBy})` : ""}`,
    ),
  );
}

export function turnView(turn: TurnView, scaleMs: number): ViewElement {
  const rows = waterfallRows(turn.timings);
  const total = responseMs(turn.timings);
  const { bargeInOnsetMs, clearSentMs } = turn.timings;
  return h(
    "li",
    { class: "turn", "data-turn": String(turn.turnIndex) },
    turn.userText === "" ? null : h("p", { class: "line caller" }, h("b", {}, "Caller "), turn.userText),
    h("p", { class: "line agent" }, h("b", {}, "Agent "), replyView(turn)),
    h(
      "div",
      { class: "latency" },
      total === null
        ? h("span", { class: "muted" }, turn.turnIndex === 0 ? "greeting" : "no caller speech end")
        : h("span", { class: "total" }, `speech end → first frame ${formatMs(total)}`),
      bargeInOnsetMs !== undefined && clearSentMs !== undefined
        ? h("span", { class: "muted" }, ` · clear ${formatMs(clearSentMs - bargeInOnsetMs)} after barge-in`)
        : null,
    ),
    rows === null || rows.length === 0 ? null : waterfallView(rows, scaleMs),
  );
}

/** Every finished turn, then what is being said in the turn in progress. */
export function transcriptView(call: CallView): ViewElement {
  const scaleMs = waterfallScaleMs(call.turns);
  const lastTurn = call.turns.reduce((last, turn) => Math.max(last, turn.turnIndex), -1);
  const live = call.transcript.filter((line) => line.turnIndex > lastTurn);
  return h(
    "ol",
    { class: "turns" },
    call.turns.map((turn) => turnView(turn, scaleMs)),
    live.length === 0
      ? null
      : h(
          "li",
          { class: "turn live" },
          live.map((line) =>
            h(
              "p",
              { class: `line ${line.role === "USER" ? "caller" : "agent"}` },
              h("b", {}, line.role === "USER" ? "Caller " : "Agent "),
              line.text,
            ),
          ),
        ),
    call.turns.length === 0 && live.length === 0 ? h("li", { class: "muted" }, "nothing said yet") : null,
  );
}

export function poolLabel(sessionWarm: boolean | null): string {
  if (sessionWarm === null) return "pool: —";
  return sessionWarm ? "pool hit (warm session)" : "pool miss (cold session)";
}

function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

/** One call on the dashboard: who, when, where, how it ended, and its transcript. */
export function callView(call: CallView, nowMs: number): ViewElement {
  const endMs = call.endedAtMs ?? nowMs;
  const bridge = call.streamBridgeId ?? call.bridge?.id ?? null;
  const region = call.bridge?.region ?? null;
  return h(
    "section",
    { class: "call", "data-call-sid": call.callSid, "data-status": call.status },
    h(
      "header",
      {},
      h("h2", {}, call.callSid),
      h("span", { class: "status" }, call.status),
      h("span", {}, `${call.from ?? "?"} → ${call.to ?? "?"}`),
      h(
        "span",
        { class: "muted" },
        `${clock(call.createdAtMs)} · ${Math.round((endMs - call.createdAtMs) / 1000)} s`,
      ),
      h(
        "span",
        { class: "bridge" },
        bridge === null ? "no bridge" : `${bridge}${region ? ` (${region})` : ""}`,
      ),
      h(
        "span",
        { class: `pool ${call.sessionWarm === false ? "miss" : "hit"}` },
        poolLabel(call.sessionWarm),
      ),
      call.endReason === null ? null : h("span", { class: "muted" }, `ended: ${call.endReason}`),
    ),
    transcriptView(call),
  );
}

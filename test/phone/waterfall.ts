/**
 * The per-turn waterfall of a call: the caller stops speaking → the bridge sends the last audio → the
 * model's first audio reaches the bridge → the bridge sends the first frame → the caller hears it.
 * The phone's timings come from the call itself, the bridge's from the edge's call record.
 */
import * as v from "valibot";
import { storedTurnSchema } from "../../shared/bridge-protocol.ts";
import type { CallResult, TurnResult } from "./phone-call.ts";

const recordSchema = v.object({
  callSid: v.string(),
  status: v.string(),
  sessionWarm: v.nullable(v.boolean()),
  streamBridgeId: v.nullable(v.string()),
  turns: v.array(storedTurnSchema),
});
export type CallRecordView = v.InferOutput<typeof recordSchema>;
export type BridgeTurn = CallRecordView["turns"][number];

export async function fetchCallRecord(
  edgeUrl: string,
  adminToken: string,
  callSid: string,
): Promise<CallRecordView> {
  const response = await fetch(`${edgeUrl}/calls/${callSid}`, {
    headers: { authorization: `Bearer ${adminToken}` },
  });
  if (!response.ok) throw new Error(`GET /calls/${callSid}: HTTP ${response.status}`);
  return v.parse(recordSchema, await response.json());
}

/** The bridge's record of a phone turn: the first bridge turn after the greeting whose user text matches. */
export function bridgeTurnFor(turn: TurnResult, turns: readonly BridgeTurn[]): BridgeTurn | undefined {
  return turns.find(
    (candidate) =>
      candidate.timings.callerSpeechEndMs !== undefined &&
      Math.abs(candidate.timings.callerSpeechEndMs - turn.speechEndMs) < 1500,
  );
}

function delta(fromMs: number | null | undefined, toMs: number | null | undefined): string {
  if (fromMs === null || fromMs === undefined || toMs === null || toMs === undefined) return "     —";
  return `${(toMs - fromMs).toFixed(1).padStart(7)} ms`;
}

export function waterfall(result: CallResult, record: CallRecordView | null): string {
  const lines: string[] = [];
  lines.push(
    `call ${result.identity.callSid}  bridge ${record?.streamBridgeId ?? "?"}  warm session: ${record?.sessionWarm ?? "?"}`,
  );
  lines.push(
    `greeting: first frame ${delta(result.streamStartMs, result.greetingFirstFrameMs)} after start, heard ${delta(result.streamStartMs, result.greetingFirstHeardMs)}`,
  );
  lines.push("");
  lines.push(
    "turn                 | caller stops → bridge VAD end | last audioInput | model 1st audio | bridge 1st frame | phone 1st frame | caller hears",
  );
  for (const turn of result.turns) {
    const bridge = record ? bridgeTurnFor(turn, record.turns) : undefined;
    const t = bridge?.timings;
    const origin = turn.speechEndMs;
    lines.push(
      [
        turn.label.padEnd(20),
        delta(origin, t?.callerSpeechEndMs).padStart(29),
        delta(origin, t?.lastAudioInputSentMs).padStart(15),
        delta(origin, t?.firstModelAudioMs).padStart(15),
        delta(origin, t?.firstFrameSentMs).padStart(16),
        delta(origin, turn.firstReplyFrameMs).padStart(15),
        delta(origin, turn.firstHeardMs).padStart(12),
      ].join(" | "),
    );
    if (bridge) {
      lines.push(`    caller: ${JSON.stringify(bridge.userText)}`);
      const cut = bridge.interrupted
        ? ` [interrupted by ${bridge.interruptedBy ?? "?"}; heard ${Math.round(bridge.heardMs)} ms]`
        : "";
      lines.push(
        `    agent:  ${JSON.stringify(bridge.interrupted ? bridge.heardText : bridge.assistantText)}${cut}`,
      );
    }
    if (turn.bargeIn) {
      lines.push(
        `    barge-in: onset → clear ${delta(turn.speechOnsetMs, turn.bargeIn.clearMs)}, reply heard after onset ${turn.bargeIn.heardAfterOnsetMs.toFixed(0)} ms`,
      );
    }
  }
  const underruns = result.gaps.filter(([start, end]) => end - start < 500);
  lines.push("");
  lines.push(
    `marks echoed ${result.marksEchoed}, clears ${result.clears.length}, underruns inside replies ${underruns.length}`,
  );
  return lines.join("\n");
}

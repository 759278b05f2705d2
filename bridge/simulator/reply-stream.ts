/**
 * One model turn's output, emitted the way Nova Sonic emits it: after the model latency, the USER
 * transcript (FINAL), then either a tool use (TOOL block ending TOOL_USE) or the spoken reply: ASSISTANT
 * text (SPECULATIVE), the audio in chunks faster than real time, ASSISTANT text (FINAL), and a usage event.
 * It keeps the reply's play-out clock (from its first audio chunk), so that a barge-in during generation
 * or play-out is answered with `{ "interrupted" : true }` and stopReason INTERRUPTED.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { INTERRUPTED_CONTENT, type NovaOutputWire, type NovaSampleRateHz } from "../../shared/nova-events.ts";
import * as out from "./output-events.ts";
import type { TurnRecord } from "./records.ts";
import type { ReplyAudio } from "./replies.ts";

export interface ReplyContext {
  ids: out.CompletionIds;
  outputSampleRateHz: NovaSampleRateHz;
  /** Duration of each audioOutput chunk. */
  audioChunkMs: number;
  /** How much faster than real time audio is generated. */
  generationSpeed: number;
  emit(wire: NovaOutputWire): void;
  /** Called before the first content of the turn: the session's completionStart, once. */
  beginCompletion(): void;
  usage(delta: out.Usage): void;
  now(): number;
}

export interface ReplyPlan {
  /** The USER transcript to report first (absent for a tool-result turn). */
  userText: string | undefined;
  userSpeechMs: number;
  tool: { toolName: string; toolUseId: string; input: string } | undefined;
  reply: ReplyAudio | undefined;
}

export type ReplyPhase = "waiting" | "speaking" | "done";

const TOKENS_PER_SECOND_OF_SPEECH = 25;
const CHARS_PER_TEXT_TOKEN = 4;

export class ReplyStream {
  readonly turn: TurnRecord;
  readonly #context: ReplyContext;
  readonly #plan: ReplyPlan;
  readonly #abort = new AbortController();
  #phase: ReplyPhase = "waiting";
  #audioContentId: string | undefined;
  #playStartMs = 0;
  #finished = false;

  constructor(context: ReplyContext, turn: TurnRecord, plan: ReplyPlan) {
    this.#context = context;
    this.turn = turn;
    this.#plan = plan;
  }

  get phase(): ReplyPhase {
    return this.#phase;
  }

  /** True while the caller would still hear this reply (being generated, or still playing). */
  audible(nowMs: number): boolean {
    if (this.#phase === "speaking") return true;
    const durationMs = this.#plan.reply?.durationMs ?? 0;
    return (
      this.#phase === "done" && this.turn.outcome === "completed" && nowMs < this.#playStartMs + durationMs
    );
  }

  /** Emits the turn; resolves when it is done, cancelled or interrupted. */
  async run(): Promise<void> {
    const signal = this.#abort.signal;
    try {
      await sleep(this.turn.modelLatencyMs, undefined, { signal });
      this.#emitTurn(signal);
      if (this.#plan.reply && !signal.aborted) await this.#speak(this.#plan.reply, signal);
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  }

  #emitTurn(signal: AbortSignal): void {
    const { ids, emit } = this.#context;
    this.#context.beginCompletion();
    const { userText, tool } = this.#plan;
    if (userText !== undefined) this.#textBlock("USER", "FINAL", [userText], "END_TURN");
    if (tool && !signal.aborted) {
      const contentId = randomUUID();
      emit(out.toolContentStart(ids, contentId));
      emit(out.toolUse(ids, contentId, tool.toolName, tool.toolUseId, tool.input));
      emit(out.contentEnd(ids, contentId, "TOOL", "TOOL_USE"));
      this.turn.toolUse = { toolName: tool.toolName, toolUseId: tool.toolUseId };
      this.#usage(0);
      this.#finish("tool_use");
    }
  }

  async #speak(reply: ReplyAudio, signal: AbortSignal): Promise<void> {
    const { ids, emit, now } = this.#context;
    this.#textBlock("ASSISTANT", "SPECULATIVE", [reply.text], "PARTIAL_TURN");
    const contentId = randomUUID();
    emit(out.audioContentStart(ids, contentId, this.#context.outputSampleRateHz));
    this.#audioContentId = contentId;
    this.#phase = "speaking";
    const chunkBytes = 2 * Math.round((reply.sampleRateHz * this.#context.audioChunkMs) / 1000);
    const pauseMs = this.#context.audioChunkMs / this.#context.generationSpeed;
    for (let offset = 0; offset < reply.pcm.byteLength; offset += chunkBytes) {
      const chunk = reply.pcm.subarray(offset, offset + chunkBytes);
      emit(
        out.audioOutput(
          ids,
          contentId,
          Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("base64"),
        ),
      );
      if (offset === 0) {
        this.#playStartMs = now();
        this.turn.firstAudioOutAtMs = this.#playStartMs;
      }
      if (offset + chunkBytes < reply.pcm.byteLength && pauseMs >= 1)
        await sleep(pauseMs, undefined, { signal });
      if (signal.aborted) return;
    }
    emit(out.contentEnd(ids, contentId, "AUDIO", "END_TURN"));
    this.#audioContentId = undefined;
    this.#textBlock("ASSISTANT", "FINAL", [reply.text], "END_TURN");
    this.#usage(reply.durationMs);
    this.#finish("completed");
  }

  /**
   * Barge-in: stops a reply that is being generated or still playing, and says so. A reply that is only
   * waiting (no content sent yet) is cancelled silently. Returns whether anything was stopped.
   */
  interrupt(): boolean {
    const nowMs = this.#context.now();
    if (this.#phase === "waiting") {
      this.#abort.abort();
      this.#finish("cancelled");
      return true;
    }
    if (!this.audible(nowMs)) return false;
    const { ids, emit } = this.#context;
    const wasSpeaking = this.#phase === "speaking";
    this.#abort.abort();
    if (this.#audioContentId) emit(out.contentEnd(ids, this.#audioContentId, "AUDIO", "INTERRUPTED"));
    this.#audioContentId = undefined;
    const texts = [INTERRUPTED_CONTENT];
    const heard = wasSpeaking ? this.#heardText(nowMs) : "";
    if (heard) texts.unshift(heard);
    this.#textBlock("ASSISTANT", "FINAL", texts, "INTERRUPTED");
    this.turn.interruptedAtMs = nowMs;
    // A reply still playing had completed its generation: the caller cut it all the same.
    this.#finished = true;
    this.#phase = "done";
    this.turn.outcome = "interrupted";
    return true;
  }

  /** Stops without a word: the session is ending. */
  abandon(): void {
    this.#abort.abort();
    if (this.turn.outcome === "pending") this.#finish("abandoned");
  }

  #heardText(nowMs: number): string {
    const reply = this.#plan.reply;
    if (!reply || reply.durationMs <= 0) return "";
    const words = reply.text.split(" ");
    const fraction = Math.min(1, Math.max(0, (nowMs - this.#playStartMs) / reply.durationMs));
    return words.slice(0, Math.floor(fraction * words.length)).join(" ");
  }

  #textBlock(
    role: "USER" | "ASSISTANT",
    stage: "SPECULATIVE" | "FINAL",
    texts: string[],
    stopReason: "PARTIAL_TURN" | "END_TURN" | "INTERRUPTED",
  ): void {
    const { ids, emit } = this.#context;
    const contentId = randomUUID();
    emit(out.textContentStart(ids, contentId, role, stage));
    for (const text of texts) emit(out.textOutput(ids, contentId, role, text));
    emit(out.contentEnd(ids, contentId, "TEXT", stopReason));
  }

  #usage(replyMs: number): void {
    const speechIn = Math.round((this.#plan.userSpeechMs / 1000) * TOKENS_PER_SECOND_OF_SPEECH);
    const textIn =
      this.#plan.userSpeechMs > 0 ? 0 : Math.ceil((this.#plan.userText ?? "").length / CHARS_PER_TEXT_TOKEN);
    const speechOut = Math.round((replyMs / 1000) * TOKENS_PER_SECOND_OF_SPEECH);
    const textOut = Math.ceil((this.#plan.reply?.text.length ?? 0) / CHARS_PER_TEXT_TOKEN);
    this.#context.usage({
      input: { speechTokens: speechIn, textTokens: textIn },
      output: { speechTokens: speechOut, textTokens: textOut },
    });
  }

  #finish(outcome: "completed" | "interrupted" | "cancelled" | "tool_use" | "abandoned"): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#phase = "done";
    this.turn.outcome = outcome;
  }
}

/**
 * One call: the edge's stream (Twilio frames + our control messages) ⇄ one Nova Sonic session.
 *
 * Uplink: each Twilio media frame → PCM at the model's input rate → audioInput at once (silence included,
 * real time, no buffering); the same 8 kHz PCM feeds the local VAD. Downlink: model audio → 8 kHz μ-law →
 * paced playback (playback.ts), ticked by one timer. The agent speaks first: the cached greeting plays the
 * moment Twilio's `start` arrives (call-prompts.ts; the session gets it as history), or the session opens
 * with an interactive USER text asking for the greeting. Tool calls become actions (call-actions.ts).
 * Barge-in (barge-in.ts) aborts the reply, sends `clear`,
 * bumps the playback generation and records what was heard. When the call ends the session is closed in
 * protocol order; an unexpected end of the model stream is an error of this call only.
 */

import { FRAME_MS } from "../shared/audio/mulaw.ts";
import {
  BRIDGE_PROTOCOL_VERSION,
  BridgeCloseCode,
  type BridgeControl,
  buildBridgeControl,
  type EdgeControl,
  type HistoryEntry,
} from "../shared/bridge-protocol.ts";
import { AppError, describeError, errorCode } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import type { NovaOutputEvent } from "../shared/nova-events.ts";
import type { TwilioInbound } from "../shared/twilio-media.ts";
import { Downlink, Uplink } from "./audio-paths.ts";
import { type BargeInDecision, BargeInDetector } from "./barge-in.ts";
import { CallActions, type CustomTool } from "./call-actions.ts";
import type { CallControl } from "./call-control.ts";
import { CallPlayout } from "./call-playout.ts";
import { CallPrompts, type HoldHandle, type PromptSource } from "./call-prompts.ts";
import { CallTurns } from "./call-turns.ts";
import type { CallerVoice } from "./caller-voice.ts";
import type { BridgeConfig } from "./config.ts";
import { ConversationHistory } from "./conversation-history.ts";
import type { FastPathMetrics } from "./fast-path-metrics.ts";
import { ModelReplies } from "./model-replies.ts";
import type { ModelSession, ModelSessionListener } from "./model-session.ts";
import { Playback, type PlayoutReport } from "./playback.ts";
import { SentAudioLog } from "./sent-audio-log.ts";
import type { CallEndpoint, CallEndReason, EdgeLink } from "./server.ts";
import { type ContinuityListener, SessionContinuity } from "./session-continuity.ts";
import type { SessionStats } from "./session-stats.ts";
import type { TurnRecord } from "./turn-record.ts";

/** Optional measurement hooks (the benchmark); every time is on the call's clock. */
export interface CallProbe {
  /** A caller frame that arrived at `receivedMs` was queued as audioInput for session `sessionKey`. */
  uplink(sessionKey: string, receivedMs: number, queuedMs: number): void;
  /**
   * Model audio that arrived at `receivedMs` was converted and queued for playback by `queuedMs`;
   * `firstFrameSentMs` when it was the start of a reply and its first frame left at once.
   */
  downlink(receivedMs: number, queuedMs: number, firstFrameSentMs: number | null): void;
  /** A playback tick ran this late after the moment it was due. */
  pacing(latenessMs: number): void;
  /** The call ended; its playback ran dry this many times while holding audio. */
  ended(underruns: number): void;
}

export interface CallOptions {
  callSid: string;
  config: BridgeConfig;
  link: EdgeLink;
  logger: Logger;
  /** Opens (or adopts a warm) model session wired to `listener`. */
  openSession(listener: ModelSessionListener): ModelSession;
  voice: CallerVoice;
  probe?: CallProbe;
  now?: () => number;
  /** Cached prompts (greeting, hold, transfer, goodbye…); absent: the model says everything. */
  prompts?: PromptSource | null;
  /** The deployer's own tools (run on the bridge; slow ones get the hold prompt). */
  customTools?: readonly CustomTool[];
  /** Twilio call control for transfers; absent: transfers are refused. */
  callControl?: CallControl | null;
  metrics?: FastPathMetrics;
  /** The bridge's model-session counters (the call keeps its own too). */
  sessionStats?: SessionStats;
}

const SESSION_CLOSE_BUDGET_MS = 1000;
/** After hang_up, the agent's last words may still come (the reply to the tool result): wait this long. */
const HANGUP_GRACE_MS = 2000;
const RESUME_INSTRUCTION =
  "The caller is connected again after the line dropped for a moment. Welcome them back briefly and carry on.";
/** For a fresh session that takes over from one that failed or ran out while it owed an answer. */
const CARRY_ON_INSTRUCTION =
  "The line dropped for a moment while you were answering. Say sorry for the interruption in a few words, " +
  "then carry on where you left off.";
/** The same once the caller has heard the cached apology. */
const CARRY_ON_AFTER_APOLOGY_INSTRUCTION =
  "The line dropped for a moment while you were answering, and the caller has been asked to bear with you. " +
  "Carry on where you left off.";
/** The goodbye of a call the model gave up on is waited for at most this long before the line closes. */
const FAILED_CALL_GOODBYE_MAX_MS = 15_000;

export function preciseNowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A progress mark (the caller has heard this far) every 200 ms of a reply. */
const MARK_EVERY_MS = 200;

export class Call implements CallEndpoint {
  readonly #o: CallOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #uplink: Uplink;
  readonly #downlink: Downlink;
  readonly #playback: Playback;
  readonly #bargeIn: BargeInDetector;
  readonly #replies: ModelReplies;
  readonly #turns = new CallTurns();
  #session: SessionContinuity | null = null;
  readonly #history: ConversationHistory;
  /** The hold prompt playing while a session start is retried (released by the model's first output). */
  #retryHold: HoldHandle | null = null;
  readonly #playout: CallPlayout;
  readonly #prompts: CallPrompts;
  readonly #actions: CallActions;
  #hangupAfterTurn: number | null = null;
  #hangupTimer: NodeJS.Timeout | null = null;
  #ending: Promise<void> | null = null;
  /** When the caller's recent frames left as audioInput, and the one holding the last speech. */
  readonly #sentAudio = new SentAudioLog();
  #speechEndAudioSentMs: number | null = null;
  #lastSpeechEndMs: number | null = null;
  /** When the Twilio `clear` of a held reply went out (it is the barge-in's clear if one follows). */
  #heldClearSentMs: number | null = null;

  constructor(options: CallOptions) {
    this.#o = options;
    this.#log = options.logger;
    this.#now = options.now ?? preciseNowMs;
    const { config } = options;
    this.#uplink = new Uplink(config.model.inputSampleRateHz);
    this.#downlink = new Downlink(config.model.outputSampleRateHz);
    this.#playback = new Playback({
      leadMs: config.playbackLeadMs,
      framesPerRelease: config.playbackSendMs / FRAME_MS,
      markEveryFrames: MARK_EVERY_MS / FRAME_MS,
    });
    this.#bargeIn = new BargeInDetector(config.bargeIn);
    this.#replies = new ModelReplies();
    this.#history = new ConversationHistory(config.model.greetingInstruction);
    const probe = options.probe;
    this.#playout = new CallPlayout({
      playback: this.#playback,
      link: options.link,
      voice: options.voice,
      now: this.#now,
      ...(probe ? { onLateTick: (latenessMs: number) => probe.pacing(latenessMs) } : {}),
    });
    this.#prompts = new CallPrompts({
      prompts: options.prompts ?? null,
      playback: this.#playback,
      turns: this.#turns,
      pump: () => this.#pump(),
      cutPlayback: () => this.#cutPromptPlayback(),
      metrics: options.metrics,
      logger: this.#log,
      now: this.#now,
    });
    this.#actions = new CallActions({
      callSid: options.callSid,
      tools: config.model.tools,
      customTools: options.customTools ?? [],
      transfer: config.fastPaths.transfer,
      callControl: options.callControl ?? null,
      holdAfterMs: config.fastPaths.holdAfterMs,
      prompts: this.#prompts,
      host: {
        sendToolResult: (toolUseId, resultJson) => this.#session?.sendToolResult(toolUseId, resultJson),
        replyPlaying: () => this.#playback.hasReply(),
        agentSpokeThisTurn: () => {
          const turn = this.#turns.current;
          return turn?.replyStarted === true && turn.cachedPrompt === undefined;
        },
        requestHangup: () => this.#requestHangup(),
        transferred: () => this.#endTransferred(),
      },
      logger: this.#log,
    });
  }

  handleTwilio(message: TwilioInbound, receivedMs: number): void {
    if (this.#ending) return;
    // The conversation starts with the stream (a `resume` may still come right after `connected`).
    if (!this.#session && message.event !== "connected") {
      const greeted = message.event === "start" && this.#greetFromCache(message.start.streamSid, receivedMs);
      this.#startSession([], greeted ? null : this.#o.config.model.greetingInstruction);
    }
    switch (message.event) {
      case "connected":
        return;
      case "start":
        this.#log.info("twilio stream started", { streamSid: message.start.streamSid });
        this.#playout.setStreamSid(message.start.streamSid);
        return;
      case "media":
        // A resumed call may not see `start` again: media frames carry the stream SID too.
        if (!this.#playout.streamSid) this.#playout.setStreamSid(message.streamSid);
        this.#onCallerAudio(message.media.payload, receivedMs);
        return;
      case "dtmf":
        this.#log.info("keypad digit", { digit: message.dtmf.digit });
        this.#sendOwnText(
          `The caller pressed the key "${message.dtmf.digit}" on their keypad.`,
          `[keypad ${message.dtmf.digit}]`,
        );
        return;
      case "mark":
        this.#onMark(message.mark.name);
        return;
      case "stop":
        this.#log.info("twilio stream stopped");
        void this.end({ kind: "socket-closed", code: 1000 });
        this.#o.link.close(1000, "call ended");
        return;
    }
  }

  handleControl(message: EdgeControl, _receivedMs: number): void {
    if (this.#ending) return;
    if (message.bridge === "resume") {
      if (this.#session) {
        throw new AppError("bad_frame", "resume must be the first message of a stream");
      }
      this.#turns.continueFrom(message.turnsCompleted);
      this.#log.info("call resumed", { reason: message.reason, historyEntries: message.history.length });
      this.#startSession(message.history, message.reason === "failover" ? RESUME_INSTRUCTION : null);
    }
  }

  end(reason: CallEndReason): Promise<void> {
    this.#ending ??= this.#finish(reason);
    return this.#ending;
  }

  // ---- model session ----------------------------------------------------------------------------------

  #startSession(history: readonly HistoryEntry[], instruction: string | null): void {
    this.#history.seed(history);
    const session = new SessionContinuity({
      open: (listener) => this.#o.openSession(listener),
      listener: this.#continuityListener(),
      policy: this.#o.config.sessions,
      logger: this.#log,
      now: this.#now,
      ...(this.#o.sessionStats ? { bridgeStats: this.#o.sessionStats } : {}),
    });
    this.#session = session;
    if (instruction) this.#turns.sentOwnText(instruction, "");
    session.start(instruction);
    this.#send({
      bridge: "ready",
      protocolVersion: BRIDGE_PROTOCOL_VERSION,
      bridgeId: this.#o.config.bridgeId,
      sessionWarm: session.warm,
    });
  }

  #onModelEvent(event: NovaOutputEvent, receivedMs: number): void {
    if (this.#ending) return;
    const step = this.#replies.accept(event);
    switch (step.kind) {
      case "user-text":
        this.#onUserText(step.text, receivedMs);
        return;
      case "reply-text": {
        const turn = this.#replyTurn(receivedMs);
        if (!turn) return;
        turn.plannedText.push(step.text);
        this.#playback.addText(step.text);
        return;
      }
      case "spoken-text":
        this.#turns.current?.spokenText.push(step.text);
        return;
      case "reply-audio":
        this.#onModelAudio(step.pcm, receivedMs);
        return;
      case "reply-end": {
        const turn = this.#turns.current;
        if (turn?.replyStarted && !turn.reply.signal.aborted && !turn.replyEnded) {
          turn.replyEnded = true;
          this.#playback.endReply();
          this.#pump();
        }
        return;
      }
      case "interrupted":
        this.#applyBargeIn(this.#bargeIn.modelInterrupted(receivedMs, this.#playback.hasReply()));
        return;
      case "tool-use":
        this.#onToolUse(step.toolName, step.toolUseId, step.input);
        return;
      case "none":
        return;
    }
  }

  /** A USER text turn of ours (greeting request, keypad digit); `label` is how the turn records it. */
  #sendOwnText(text: string, label: string): void {
    this.#turns.sentOwnText(text, label);
    this.#session?.sendUserText(text);
  }

  #onUserText(text: string, atMs: number): void {
    const { turn, spoken, message } = this.#turns.userText(text, atMs);
    if (spoken) {
      turn.timings.callerSpeechEndMs ??= this.#lastSpeechEndMs ?? undefined;
      turn.timings.lastAudioInputSentMs ??= this.#speechEndAudioSentMs ?? undefined;
    }
    if (message) this.#send(message);
  }

  /** The turn assistant output belongs to (its reply queued for playback); null while it is cut. */
  #replyTurn(atMs: number): TurnRecord | null {
    const found = this.#turns.replyTurn();
    if (!found) return null;
    if (found.started) {
      this.#prompts.beforeModelReply();
      this.#downlink.reset();
      this.#playback.startReply(found.turn.index);
      this.#log.debug("reply started", { turnIndex: found.turn.index, atMs });
    }
    return found.turn;
  }

  #onModelAudio(pcm: Uint8Array, receivedMs: number): void {
    const turn = this.#replyTurn(receivedMs);
    if (!turn) return;
    turn.timings.firstModelAudioMs ??= receivedMs;
    this.#playback.addAudio(this.#downlink.convert(pcm));
    const queuedMs = this.#now();
    const firstFrameSentMs = this.#pump();
    this.#o.probe?.downlink(receivedMs, queuedMs, firstFrameSentMs);
  }

  #onToolUse(toolName: string, toolUseId: string, input: string): void {
    this.#actions.onToolUse(toolName, toolUseId, input);
  }

  /**
   * The agent asked to end the call: hang up once the current turn's reply (usually the goodbye that
   * answers the tool result) has been heard; if no reply is under way, after a short grace period.
   */
  #requestHangup(): void {
    this.#hangupAfterTurn = this.#turns.current?.index ?? -1;
    const waitForSpeech = () => {
      this.#hangupTimer = setTimeout(() => {
        if (this.#playback.hasReply()) waitForSpeech();
        else this.#hangUp();
      }, HANGUP_GRACE_MS);
    };
    waitForSpeech();
  }

  #hangUp(): void {
    if (this.#ending) return;
    this.#log.info("agent ended the call");
    this.#send({ bridge: "hangup", reason: "agent" });
    void this.end({ kind: "socket-closed", code: 4010 });
    this.#o.link.close(4010, "agent ended the call");
  }

  // ---- caller audio, barge-in -------------------------------------------------------------------------

  #onCallerAudio(payloadBase64: string, receivedMs: number): void {
    const pcm8k = this.#uplink.push(payloadBase64);
    this.#sentAudio.received(receivedMs);
    const playing = this.#playback.isPlaying(receivedMs);
    for (const change of this.#o.voice.push(pcm8k, receivedMs)) {
      this.#session?.voice(change);
      if (change.kind === "onset") {
        this.#bargeIn.speechOnset(change.atMs);
        if (playing) this.#holdReply();
      } else if (change.kind === "confirmed") {
        this.#applyBargeIn(this.#bargeIn.speechConfirmed(change.atMs, playing));
      } else {
        this.#bargeIn.speechOffset();
        this.#lastSpeechEndMs = change.atMs;
        this.#speechEndAudioSentMs = this.#sentAudio.sentAtFor(change.atMs);
        this.#resumeReply();
      }
    }
    // Audio someone waits on (the caller speaks, or the model has yet to answer) goes at once, with whatever
    // gathered before it; otherwise it gathers into larger audioInputs (config: NOVA_IDLE_AUDIO_INPUT_MS).
    const awaited = this.#session?.callerAudioAwaited(receivedMs) ?? true;
    const { audioInputMs, idleAudioInputMs } = this.#o.config.model;
    const modelBase64 = this.#uplink.take((awaited ? audioInputMs : idleAudioInputMs) / FRAME_MS);
    if (modelBase64 !== null) {
      this.#session?.sendAudio(modelBase64, receivedMs);
      const sentMs = this.#now();
      this.#sentAudio.sent(sentMs);
      this.#o.probe?.uplink(this.#session?.key ?? "", receivedMs, sentMs);
    }
    this.#applyBargeIn(this.#bargeIn.advance(receivedMs, playing));
  }

  /**
   * The caller starts speaking over a reply (local VAD onset): the reply stops at once (Twilio `clear`) but is
   * not given up yet. Confirmed speech or the model's signal makes it a barge-in (#applyBargeIn); speech that
   * ends before that (a back-channel, a cough) lets the reply carry on from where the caller stopped hearing.
   */
  #holdReply(): void {
    if (!this.#o.config.bargeIn.vadEnabled || this.#playback.held) return;
    const { clear } = this.#playback.hold(this.#now());
    if (clear) this.#heldClearSentMs = this.#playout.clear();
    this.#log.info("reply held: the caller speaks over it", { cleared: clear });
  }

  #resumeReply(): void {
    if (!this.#playback.held) return;
    this.#playback.resume();
    this.#heldClearSentMs = null;
    this.#log.info("reply resumed: the caller's speech was no barge-in");
    this.#pump();
  }

  /** Cuts whatever is playing: the replies' turns are aborted, Twilio is cleared, the heard part recorded. */
  #applyBargeIn(decision: BargeInDecision): void {
    if (!decision.cut) return;
    const nowMs = this.#now();
    const { reports, clear } = this.#playback.interrupt(nowMs);
    if (reports.length === 0) return;
    this.#bargeIn.reset();
    const clearSentMs = (clear ? this.#playout.clear() : this.#heldClearSentMs) ?? undefined;
    this.#heldClearSentMs = null;
    for (const report of reports) {
      const turn = this.#turns.get(report.turnIndex);
      if (!turn) continue;
      turn.reply.abort();
      turn.interruptedBy ??= decision.by;
      turn.timings.bargeInOnsetMs ??= decision.onsetMs;
      if (clearSentMs !== undefined) turn.timings.clearSentMs ??= clearSentMs;
    }
    this.#log.info("barge-in", {
      by: decision.by,
      turnIndex: reports.at(-1)?.turnIndex,
      heardMs: reports.at(-1)?.heardMs,
    });
    for (const report of reports) this.#finishTurn(report.turnIndex, report);
  }

  // ---- playback -----------------------------------------------------------------------------------------

  /** Releases the frames that are due; notes when a reply's first frame left. */
  #pump(): number | null {
    const firstFrameSentMs = this.#playout.pump();
    if (firstFrameSentMs === null) return null;
    const turn = this.#turns.current;
    if (turn?.replyStarted && turn.timings.firstFrameSentMs === undefined) {
      turn.timings.firstFrameSentMs = firstFrameSentMs;
      this.#prompts.firstFrameSent(turn, firstFrameSentMs);
    }
    return firstFrameSentMs;
  }

  #onMark(name: string): void {
    const result = this.#playback.onMark(name);
    if (result.kind === "played-out") this.#finishTurn(result.report.turnIndex, result.report);
  }

  #finishTurn(turnIndex: number, report: PlayoutReport | null): void {
    const finished = this.#turns.finish(turnIndex, report, Date.now());
    if (!finished) return;
    if (finished.transcript) this.#send(finished.transcript);
    this.#send(finished.turn);
    this.#log.info("turn", {
      turnIndex,
      heardMs: finished.turn.heardMs,
      replyMs: finished.turn.replyMs,
      interruptedBy: finished.turn.interruptedBy,
    });
    if (this.#hangupAfterTurn !== null && turnIndex >= this.#hangupAfterTurn) this.#hangUp();
  }

  // ---- ending -------------------------------------------------------------------------------------------

  async #finish(reason: CallEndReason): Promise<void> {
    this.#actions.stop();
    this.#releaseRetryHold();
    this.#playout.stop();
    if (this.#hangupTimer) clearTimeout(this.#hangupTimer);
    this.#o.probe?.ended(this.#playback.underruns);
    this.#log.info("call ending", { reason: reason.kind, turns: this.#turns.count });
    if (this.#o.link.open) {
      // The caller hung up mid-reply (or the bridge closes): record what was heard of unfinished turns.
      for (const report of this.#playback.interrupt(this.#now()).reports) {
        this.#finishTurn(report.turnIndex, report);
      }
    }
    const session = this.#session;
    if (!session) return;
    // The caller's last frames may still be gathering for an audioInput: the model gets them too.
    const gathered = this.#uplink.take(1);
    if (gathered !== null) session.sendAudio(gathered, this.#now());
    try {
      await Promise.race([
        session.close(),
        new Promise<void>((resolve) => setTimeout(resolve, SESSION_CLOSE_BUDGET_MS).unref()),
      ]);
    } catch (error) {
      this.#log.warn("model session did not close cleanly", {
        code: errorCode(error),
        error: describeError(error),
      });
    }
  }

  // ---- cached prompts and call actions (call-prompts.ts, call-actions.ts) -------------------------------

  /** Twilio's stream started: the cached greeting, if there is one, goes out now. Returns whether it did. */
  #greetFromCache(streamSid: string, receivedMs: number): boolean {
    this.#playout.setStreamSid(streamSid);
    return this.#prompts.streamStarted(receivedMs, true);
  }

  /** A hold prompt still playing when the answer comes is cut, like a barge-in (heard part recorded). */
  #cutPromptPlayback(): void {
    const { reports, clear } = this.#playback.interrupt(this.#now());
    if (clear) this.#playout.clear();
    for (const report of reports) {
      this.#turns.get(report.turnIndex)?.reply.abort();
      this.#finishTurn(report.turnIndex, report);
    }
  }

  /** Twilio took the call to the transfer number: the edge is told, the call ends here. */
  #endTransferred(): void {
    if (this.#ending) return;
    this.#send({ bridge: "hangup", reason: "transfer" });
    void this.end({ kind: "socket-closed", code: BridgeCloseCode.CALL_ENDED });
    this.#o.link.close(BridgeCloseCode.CALL_ENDED, "call transferred");
  }

  #send(message: BridgeControl): void {
    this.#history.record(message);
    this.#o.link.send(buildBridgeControl(message));
  }

  // ---- session continuity: rollover and recovery (session-continuity.ts) --------------------------------

  #continuityListener(): ContinuityListener {
    return {
      onEvent: (event, receivedMs) => {
        this.#releaseRetryHold();
        this.#onModelEvent(event, receivedMs);
      },
      history: () => this.#history.entries(this.#replyInProgressText()),
      replyPlaying: () => this.#playback.hasReply(),
      onSwitch: ({ modelWasBusy }) => {
        if (!modelWasBusy) return null;
        this.#endOpenReply();
        return this.#ownInstruction(CARRY_ON_INSTRUCTION);
      },
      onLost: (failure, { modelWasBusy }) => this.#onModelLost(failure, modelWasBusy),
      onStartRetry: (failure) => {
        this.#reportModelError(failure);
        // Nothing to hear while the start is retried: the cached hold prompt fills the wait.
        if (!this.#retryHold && !this.#playback.hasReply()) this.#retryHold = this.#prompts.hold();
      },
      onGiveUp: (failure) => this.#onModelGaveUp(failure),
    };
  }

  /** The text of a reply the caller is hearing now (it plays on while another session takes over). */
  #replyInProgressText(): string {
    const turn = this.#turns.current;
    if (!turn?.replyStarted || turn.reply.signal.aborted || !this.#turns.get(turn.index)) return "";
    return turn.plannedText.join(" ");
  }

  /** No more audio will come for the reply being received: what arrived plays out. */
  #endOpenReply(): void {
    const turn = this.#turns.current;
    if (!turn?.replyStarted || turn.replyEnded) return;
    turn.replyEnded = true;
    if (!turn.reply.signal.aborted) this.#playback.endReply();
    this.#pump();
  }

  /** An interactive text for the session taking over; its echo is no caller speech. */
  #ownInstruction(text: string): string {
    this.#turns.sentOwnText(text, "");
    return text;
  }

  #releaseRetryHold(): void {
    this.#retryHold?.release();
    this.#retryHold = null;
  }

  /** Every model failure reaches the edge with its code (it records them with the call). */
  #reportModelError(failure: AppError): void {
    this.#send({ bridge: "error", code: failure.code, message: failure.message.slice(0, 4000) });
  }

  /**
   * The session failed mid-call: what plays is cut; if the caller was waiting for us, the cached apology
   * plays at once (never dead air) and the next session is asked to carry on (to apologise itself when
   * there is no cached apology); a failure on a quiet line is mended without a word.
   */
  #onModelLost(failure: AppError, modelWasBusy: boolean): string | null {
    this.#reportModelError(failure);
    const waiting = this.#cutReplies() || modelWasBusy;
    const apologised = waiting && this.#prompts.play("apology") !== null;
    // Nothing said yet on either side (the greeting was lost): the next session greets.
    if (this.#history.length === 0) return this.#ownInstruction(this.#o.config.model.greetingInstruction);
    if (!waiting) return null;
    return this.#ownInstruction(apologised ? CARRY_ON_AFTER_APOLOGY_INSTRUCTION : CARRY_ON_INSTRUCTION);
  }

  /** Stops every reply at once (Twilio cleared); the heard parts are recorded. Returns whether any was. */
  #cutReplies(): boolean {
    const { reports, clear } = this.#playback.interrupt(this.#now());
    if (clear) this.#playout.clear();
    const current = this.#turns.current;
    if (current?.replyStarted) current.replyEnded = true;
    for (const report of reports) {
      this.#turns.get(report.turnIndex)?.reply.abort();
      this.#finishTurn(report.turnIndex, report);
    }
    return reports.length > 0;
  }

  /**
   * The model keeps failing: the caller hears the cached goodbye (if there is one), then the call ends with
   * a hangup control and CALL_ENDED, never left as a dead line.
   */
  #onModelGaveUp(failure: AppError): void {
    if (this.#ending) return;
    this.#reportModelError(failure);
    this.#releaseRetryHold();
    this.#cutReplies();
    if (this.#prompts.play("goodbye") === null) {
      this.#endFailedCall();
      return;
    }
    const giveUpAtMs = this.#now() + FAILED_CALL_GOODBYE_MAX_MS;
    const waitForGoodbye = () => {
      if (this.#ending) return;
      if (this.#playback.hasReply() && this.#now() < giveUpAtMs) setTimeout(waitForGoodbye, 100);
      else this.#endFailedCall();
    };
    waitForGoodbye();
  }

  #endFailedCall(): void {
    if (this.#ending) return;
    this.#send({ bridge: "hangup", reason: "session_failed" });
    void this.end({ kind: "socket-closed", code: BridgeCloseCode.CALL_ENDED });
    this.#o.link.close(BridgeCloseCode.CALL_ENDED, "the model is unavailable");
  }
}

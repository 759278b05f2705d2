/**
 * One simulated Nova Sonic session (one bidirectional stream): validates the input stream, listens to the
 * caller's audio in real time, decides when a turn has ended, and answers each turn through a ReplyStream;
 * handles barge-in, tool use, the session time limit and the faults it was given. Output goes to a
 * SessionOutput (the server frames it); nothing here knows about HTTP/2.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "../../shared/log.ts";
import type {
  EndpointingSensitivity,
  NovaInputMessage,
  NovaOutputWire,
  NovaSampleRateHz,
} from "../../shared/nova-events.ts";
import { type EndpointEvent, Endpointer, pcm16Samples } from "./endpointing.ts";
import type { StreamExceptionType } from "./event-stream.ts";
import type { Fault } from "./faults.ts";
import { type InputEffect, InputProtocol, ProtocolViolation } from "./input-protocol.ts";
import type { ModelBehaviour, SessionOutput } from "./model-behaviour.ts";
import * as out from "./output-events.ts";
import { noteReceived, type SessionRecord, type TurnRecord, type TurnTrigger } from "./records.ts";
import { chooseReply, type ReplyTrigger } from "./replies.ts";
import { type ReplyPlan, ReplyStream } from "./reply-stream.ts";
import { placeholderTranscript } from "./transcripts.ts";

export class SimSession {
  readonly record: SessionRecord;
  readonly #behaviour: ModelBehaviour;
  readonly #output: SessionOutput;
  readonly #log: Logger;
  readonly #protocol: InputProtocol;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #ids: out.CompletionIds = { sessionId: randomUUID(), promptName: "", completionId: randomUUID() };
  #closed = false;
  #completionStarted = false;
  #sensitivity: EndpointingSensitivity;
  #outputRateHz: NovaSampleRateHz = 24000;
  #declaredTools = new Set<string>();
  #endpointer: Endpointer | undefined;
  #lastVoicedArrivalMs = 0;
  /** When the caller's current speech was first detected (null between turns). */
  #speechStartArrivalMs: number | null = null;
  /** Whether the caller's current speech began while a reply was audible. */
  #speechOverReply = false;
  #reply: ReplyStream | undefined;
  #audioTurns = 0;
  #finishedTurns = 0;
  #greeted = false;
  #usageTotal: out.Usage = {
    input: { speechTokens: 0, textTokens: 0 },
    output: { speechTokens: 0, textTokens: 0 },
  };

  constructor(record: SessionRecord, behaviour: ModelBehaviour, output: SessionOutput, log: Logger) {
    this.record = record;
    this.#behaviour = behaviour;
    this.#output = output;
    this.#log = log;
    this.#protocol = new InputProtocol(behaviour.historyLimits);
    this.#sensitivity = behaviour.defaultSensitivity;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Arms the session limit and the time-based faults. */
  start(): void {
    this.#after(this.#behaviour.sessionLimitMs, () =>
      this.#fail("modelTimeoutException", "The session reached its time limit and was closed."),
    );
    for (const fault of this.record.faults) {
      if (fault.kind === "throttle" && fault.where === "stream") {
        this.#after(0, () =>
          this.#fail("throttlingException", "Too many requests, please wait before trying again."),
        );
      } else if (fault.kind !== "throttle" && fault.afterMs !== undefined) {
        this.#after(fault.afterMs, () => this.#applyFault(fault));
      } else if (fault.kind !== "throttle" && (fault.afterTurns ?? 0) === 0) {
        this.#after(0, () => this.#applyFault(fault));
      }
    }
  }

  receive(message: NovaInputMessage): void {
    if (this.#closed) return;
    if (message.kind === "audioInput") {
      this.record.audioInputFrames++;
      this.record.audioInputBytes += message.pcm.byteLength;
      const arrivalMs = this.#behaviour.now();
      this.record.firstAudioInputAtMs ??= arrivalMs;
      this.record.lastAudioInputAtMs = arrivalMs;
    } else {
      noteReceived(this.record, message.kind);
      if (this.#log.enabled("debug"))
        this.#log.debug("received", { event: message.kind, body: message.body });
    }
    let effect: InputEffect;
    try {
      effect = this.#protocol.accept(message);
    } catch (error) {
      if (!(error instanceof ProtocolViolation)) throw error;
      this.#fail("validationException", error.message);
      return;
    }
    this.#apply(effect);
  }

  /** The client finished sending (after sessionEnd), or went away. */
  inputEnded(): void {
    if (this.#closed) return;
    if (this.#protocol.phase !== "session_ended") {
      this.#fail("validationException", "the input stream ended before sessionEnd");
    }
  }

  /** Fails the session with a ValidationException (a frame or event the server could not accept). */
  reject(message: string): void {
    this.#fail("validationException", message);
  }

  /** The client went away: stop everything without sending more. */
  dispose(reason: string): void {
    if (this.#closed) return;
    this.#close(reason);
  }

  #apply(effect: InputEffect): void {
    switch (effect.kind) {
      case "session_start":
        this.#sensitivity = effect.endpointingSensitivity ?? this.#behaviour.defaultSensitivity;
        this.record.endpointingSensitivity = this.#sensitivity;
        return;
      case "prompt_start":
        this.#ids = { ...this.#ids, promptName: effect.promptName };
        this.#outputRateHz = effect.output.sampleRateHertz;
        this.#declaredTools = new Set(effect.tools.map((tool) => tool.name));
        this.record.promptName = effect.promptName;
        this.record.outputSampleRateHz = effect.output.sampleRateHertz;
        this.record.voiceId = effect.output.voiceId;
        return;
      case "history":
        this.record.history.push({ role: effect.role, text: effect.text });
        if (effect.role === "ASSISTANT") this.#greeted = true;
        return;
      case "audio_start": {
        const pauseMs = this.#behaviour.pauseMsBySensitivity[this.#sensitivity];
        this.record.inputSampleRateHz = effect.sampleRateHz;
        this.record.pauseMs = pauseMs;
        this.#endpointer = new Endpointer({
          sampleRateHz: effect.sampleRateHz,
          pauseMs,
          speechThresholdDbfs: this.#behaviour.speechThresholdDbfs,
          minSpeechMs: this.#behaviour.minSpeechMs,
        });
        return;
      }
      case "audio":
        this.#hear(effect.pcm);
        return;
      case "user_text":
        this.#reply?.interrupt();
        this.#startTurn("text", { kind: "text", text: effect.text }, effect.text, 0, undefined);
        return;
      case "tool_result": {
        const toolName = this.record.turns.find(
          (turn) => turn.toolUse?.toolUseId === effect.toolUseId,
        )?.toolUse;
        this.#startTurn(
          "tool_result",
          { kind: "tool_result", toolName: toolName?.toolName ?? "" },
          undefined,
          0,
          undefined,
        );
        return;
      }
      case "session_end":
        this.#reply?.abandon();
        if (this.#completionStarted) this.#send(out.completionEnd(this.#ids));
        this.#output.end();
        this.#close("session_end");
        return;
      case "audio_end":
      case "system_prompt":
      case "prompt_end":
      case "none":
        return;
    }
  }

  #hear(pcm: Uint8Array): void {
    const endpointer = this.#endpointer;
    if (!endpointer) return;
    const arrivalMs = this.#behaviour.now();
    const { events, voiced } = endpointer.push(pcm16Samples(pcm));
    if (voiced) this.#lastVoicedArrivalMs = arrivalMs;
    for (const event of events) this.#onEndpointEvent(event, arrivalMs);
    const reply = this.#reply;
    const speakingLongEnough =
      this.#speechStartArrivalMs !== null &&
      arrivalMs - this.#speechStartArrivalMs >= this.#behaviour.bargeInDetectionMs;
    if (
      voiced &&
      endpointer.inSpeech &&
      speakingLongEnough &&
      reply &&
      reply.phase !== "waiting" &&
      reply.audible(arrivalMs)
    ) {
      if (reply.interrupt()) this.#log.debug("barge-in", { turn: reply.turn.index });
    }
  }

  #onEndpointEvent(event: EndpointEvent, arrivalMs: number): void {
    if (event.kind === "speech_start") {
      this.#speechStartArrivalMs = arrivalMs;
      const playing = this.#reply;
      this.#speechOverReply =
        playing !== undefined && playing.phase !== "waiting" && playing.audible(arrivalMs);
      // The caller spoke again before the answer began: the model keeps listening.
      if (this.#reply?.phase === "waiting" && this.#reply.turn.trigger === "audio") this.#reply.interrupt();
      return;
    }
    this.#speechStartArrivalMs = null;
    const speechMs = event.lastSpeechAudioMs - event.speechStartAudioMs;
    // A short sound over a reply that is still playing ("mm-hm") is a back-channel, not a turn.
    const overReply = this.#speechOverReply;
    this.#speechOverReply = false;
    if (overReply && speechMs < this.#behaviour.backchannelMaxMs && this.#reply?.audible(arrivalMs)) {
      this.#log.debug("back-channel", { speechMs });
      return;
    }
    const transcript =
      this.#behaviour.catalogue?.recognise(event.envelopeDbfs) ?? placeholderTranscript(speechMs);
    this.#reply?.interrupt();
    const turn = this.#startTurn(
      "audio",
      { kind: "audio", audioTurnIndex: this.#audioTurns++ },
      transcript,
      speechMs,
      arrivalMs,
    );
    turn.lastSpeechFrameAtMs = this.#lastVoicedArrivalMs;
  }

  #startTurn(
    trigger: TurnTrigger,
    replyTrigger: ReplyTrigger,
    userText: string | undefined,
    speechMs: number,
    endpointAtMs: number | undefined,
  ): TurnRecord {
    const behaviour = this.#behaviour;
    const turn: TurnRecord = {
      index: this.record.turns.length,
      trigger,
      transcript: userText,
      lastSpeechFrameAtMs: undefined,
      endpointAtMs: endpointAtMs ?? behaviour.now(),
      speechMs: trigger === "audio" ? speechMs : undefined,
      modelLatencyMs: behaviour.drawLatencyMs(),
      firstAudioOutAtMs: undefined,
      replyId: undefined,
      replyDurationMs: undefined,
      toolUse: undefined,
      outcome: "pending",
      interruptedAtMs: undefined,
    };
    this.record.turns.push(turn);
    const plan: ReplyPlan = {
      userText,
      userSpeechMs: speechMs,
      tool: this.#matchTool(userText),
      reply: undefined,
    };
    if (plan.tool) {
      this.#protocol.pendingToolUses.add(plan.tool.toolUseId);
    } else {
      const replyId = chooseReply(replyTrigger, this.#greeted);
      if (replyId === "greeting" || replyId === "greeting_again") this.#greeted = true;
      plan.reply = behaviour.replies.get(replyId, this.#outputRateHz);
      turn.replyId = replyId;
      turn.replyDurationMs = plan.reply.durationMs;
    }
    const reply = new ReplyStream(
      {
        ids: this.#ids,
        outputSampleRateHz: this.#outputRateHz,
        audioChunkMs: behaviour.audioChunkMs,
        generationSpeed: behaviour.generationSpeed,
        emit: (wire) => this.#send(wire),
        beginCompletion: () => this.#beginCompletion(),
        usage: (delta) => this.#addUsage(delta),
        now: behaviour.now,
      },
      turn,
      plan,
    );
    this.#reply = reply;
    this.#log.debug("turn", {
      turn: turn.index,
      trigger,
      transcript: userText,
      latencyMs: turn.modelLatencyMs,
    });
    reply.run().then(
      () => this.#turnSettled(turn),
      (error: unknown) => this.#fail("internalServerException", `reply failed: ${String(error)}`),
    );
    return turn;
  }

  #turnSettled(turn: TurnRecord): void {
    if (this.#closed || (turn.outcome !== "completed" && turn.outcome !== "tool_use")) return;
    this.#finishedTurns++;
    for (const fault of this.record.faults) {
      if (
        fault.kind !== "throttle" &&
        fault.afterTurns !== undefined &&
        fault.afterTurns === this.#finishedTurns
      ) {
        this.#applyFault(fault);
      }
    }
  }

  #matchTool(text: string | undefined): ReplyPlan["tool"] {
    if (text === undefined) return undefined;
    const lower = text.toLowerCase();
    const trigger = this.#behaviour.toolTriggers.find(
      (candidate) =>
        this.#declaredTools.has(candidate.toolName) && lower.includes(candidate.keyword.toLowerCase()),
    );
    if (!trigger) return undefined;
    return { toolName: trigger.toolName, toolUseId: randomUUID(), input: JSON.stringify(trigger.input) };
  }

  #beginCompletion(): void {
    if (this.#completionStarted) return;
    this.#completionStarted = true;
    this.#send(out.completionStart(this.#ids));
  }

  #addUsage(delta: out.Usage): void {
    const total = this.#usageTotal;
    for (const side of ["input", "output"] as const) {
      total[side].speechTokens += delta[side].speechTokens;
      total[side].textTokens += delta[side].textTokens;
    }
    this.#send(out.usageEvent(this.#ids, delta, structuredClone(total)));
  }

  #send(wire: NovaOutputWire): void {
    if (this.#closed) return;
    const name = Object.keys(wire.event)[0] ?? "?";
    this.record.sent[name] = (this.record.sent[name] ?? 0) + 1;
    if (name !== "audioOutput" && this.#log.enabled("debug"))
      this.#log.debug("sent", { event: name, body: wire.event });
    this.#output.event(wire);
  }

  #applyFault(fault: Fault): void {
    if (this.#closed) return;
    if (fault.kind === "stream_error") {
      this.#fail(
        "modelStreamErrorException",
        "The system encountered an unexpected error during processing. Try your request again.",
      );
    } else if (fault.kind === "reset") {
      this.#log.debug("fault: silent stream reset");
      this.#output.reset();
      this.#close("fault_reset");
    }
  }

  #fail(type: StreamExceptionType, message: string): void {
    if (this.#closed) return;
    this.#log.debug("exception", { type, message });
    this.#output.exception(type, message);
    this.#close(type);
  }

  #close(reason: string): void {
    this.#closed = true;
    this.#reply?.abandon();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.record.endedAtMs = this.#behaviour.now();
    this.record.endReason = reason;
  }

  #after(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      action();
    }, ms);
    this.#timers.add(timer);
  }
}

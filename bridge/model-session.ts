/**
 * A call's model session: a NovaSession (bridge/nova/session.ts, one stream through the AWS SDK) adapted
 * to what the call needs. It may be opened ahead of the call (pre-warm: sessionStart, promptStart and the
 * system prompt are already on their way) and is attached to the call's listener when the call starts.
 * History handed over on resume is fitted to the service's reported limits (about 40 messages of about
 * 1 KB, the first one from the USER) before the audio starts.
 */
import type { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";
import type { HistoryEntry } from "../shared/bridge-protocol.ts";
import { AppError } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import type { NovaOutputEvent } from "../shared/nova-events.ts";
import type { ModelConfig } from "./config.ts";
import { NovaSession } from "./nova/session.ts";
import { type ToolSpec, toolSpecs } from "./tools.ts";

/** What a call needs from its model session (bridge/nova adapts the SDK stream to this). */
export interface ModelSession {
  /** Whether the stream was opened ahead of the call (pool or pre-warm). */
  readonly warm: boolean;
  /** Names the stream in logs and measurements (the prompt name). */
  readonly key: string;
  /** Settles true when the service accepted the stream (its connection is up), false if it ended first. */
  readonly accepted: Promise<boolean>;
  /** When the stream was opened (a pooled or pre-warmed one before the call): the session limit counts from here. */
  readonly openedAtMs: number;
  /** Starts the conversation: system prompt and tools are the session's; history goes before audio. */
  start(options: { history: readonly HistoryEntry[]; instruction: string | null }): void;
  sendAudio(pcmBase64: string): void;
  /** An interactive USER text turn (greeting request, keypad digits). */
  sendUserText(text: string): void;
  sendToolResult(toolUseId: string, resultJson: string): void;
  /** contentEnd → promptEnd → sessionEnd, then waits (bounded) for the stream to finish. */
  close(): Promise<void>;
}

export interface ModelSessionListener {
  onEvent(event: NovaOutputEvent, receivedMs: number): void;
  /** The stream ended before close() was asked for: always an error of the call. */
  onEnd(error: AppError): void;
}

export const MAX_HISTORY_MESSAGES = 40;
export const MAX_HISTORY_MESSAGE_BYTES = 1024;

/** Per-call overrides the edge may send with a pre-warm. */
export interface SessionOverrides {
  voiceId?: string | undefined;
  systemPrompt?: string | undefined;
}

/** Keeps the most recent messages within the limits, starting with a USER message; trims long ones. */
export function fitHistory(history: readonly HistoryEntry[]): HistoryEntry[] {
  const encoder = new TextEncoder();
  const trimmed = history
    .map((entry) => ({ role: entry.role, text: entry.text.trim() }))
    .filter((entry) => entry.text !== "")
    .map((entry) => {
      if (encoder.encode(entry.text).length <= MAX_HISTORY_MESSAGE_BYTES) return entry;
      // Keep the end of a long message: it is what the conversation continues from.
      let text = entry.text.slice(-MAX_HISTORY_MESSAGE_BYTES);
      while (encoder.encode(`…${text}`).length > MAX_HISTORY_MESSAGE_BYTES) text = text.slice(1);
      return { role: entry.role, text: `…${text}` };
    });
  const recent = trimmed.slice(-MAX_HISTORY_MESSAGES);
  const firstUser = recent.findIndex((entry) => entry.role === "USER");
  return firstUser < 0 ? [] : recent.slice(firstUser);
}

export class NovaModelSession implements ModelSession {
  readonly warm: boolean;
  /** The voice the session speaks with (a pre-warm may have chosen another than the configured one). */
  readonly voiceId: string;
  /** The per-call overrides it was opened with (the call's later sessions use them too). */
  readonly overrides: SessionOverrides;
  readonly #session: NovaSession;
  readonly #log: Logger;
  readonly #now: () => number;
  #listener: ModelSessionListener | null = null;
  #closeRequested = false;

  private constructor(
    session: NovaSession,
    warm: boolean,
    voiceId: string,
    overrides: SessionOverrides,
    logger: Logger,
    now: () => number,
  ) {
    this.#session = session;
    this.warm = warm;
    this.voiceId = voiceId;
    this.overrides = overrides;
    this.#log = logger;
    this.#now = now;
  }

  /** Opens the stream now (sessionStart, promptStart, system prompt); events wait for `attach`. */
  static open(args: {
    client: BedrockRuntimeClient;
    model: ModelConfig;
    overrides?: SessionOverrides;
    /** The deployer's own tools, offered beside the configured built-in ones. */
    extraTools?: readonly ToolSpec[];
    warm: boolean;
    logger: Logger;
    now: () => number;
  }): NovaModelSession {
    const { model, overrides } = args;
    const voiceId = overrides?.voiceId ?? model.voiceId;
    const session = NovaSession.open(
      {
        modelId: model.modelId,
        voiceId,
        systemPrompt: overrides?.systemPrompt ?? model.systemPrompt,
        inputSampleRateHz: model.inputSampleRateHz,
        outputSampleRateHz: model.outputSampleRateHz,
        endpointingSensitivity: model.endpointingSensitivity,
        maxTokens: model.maxTokens,
        temperature: model.temperature,
        topP: model.topP,
        tools: [...toolSpecs(model.tools), ...(args.extraTools ?? [])],
      },
      { client: args.client, logger: args.logger, now: args.now },
    );
    return new NovaModelSession(session, args.warm, voiceId, overrides ?? {}, args.logger, args.now);
  }

  get key(): string {
    return this.#session.promptName;
  }

  /** Whether the stream is still usable (a pre-warmed one may have failed while it waited). */
  get isOpen(): boolean {
    return this.#session.isOpen;
  }

  /** Settles true when the service accepted the stream (ready for audio), false if it ended first. */
  get accepted(): Promise<boolean> {
    return this.#session.accepted;
  }

  get openedAtMs(): number {
    return this.#session.timestamps.openedAtMs;
  }

  get acceptedAtMs(): number | undefined {
    return this.#session.timestamps.acceptedAtMs;
  }

  /** Routes the session's events to the call; call once. */
  attach(listener: ModelSessionListener): void {
    if (this.#listener) throw new AppError("internal", "model session attached twice");
    this.#listener = listener;
    void this.#pump(listener);
  }

  start(options: { history: readonly HistoryEntry[]; instruction: string | null }): void {
    const history = fitHistory(options.history);
    if (history.length < options.history.length) {
      this.#log.info("history fitted to the model's limits", {
        given: options.history.length,
        kept: history.length,
      });
    }
    if (history.length > 0) this.#session.addHistory(history);
    this.#session.startAudio();
    if (options.instruction) this.#session.sendText(options.instruction);
  }

  sendAudio(pcmBase64: string): void {
    this.#session.sendAudio(pcmBase64);
  }

  sendUserText(text: string): void {
    this.#session.sendText(text);
  }

  sendToolResult(toolUseId: string, resultJson: string): void {
    this.#session.sendToolResult(toolUseId, resultJson);
  }

  async close(): Promise<void> {
    this.#closeRequested = true;
    await this.#session.close();
  }

  async #pump(listener: ModelSessionListener): Promise<void> {
    let failure: AppError | null = null;
    try {
      for await (const event of this.#session.events()) listener.onEvent(event, this.#now());
    } catch (error) {
      failure =
        error instanceof AppError
          ? error
          : new AppError("model_stream_error", "the model stream failed", { cause: error });
    }
    if (this.#closeRequested) return;
    const end = await this.#session.ended;
    if (end.kind === "failed") failure ??= end.error;
    listener.onEnd(
      failure ??
        new AppError("model_stream_ended", `the model stream ended (${end.kind}) while the call was live`),
    );
  }
}

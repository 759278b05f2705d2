/**
 * One Nova Sonic bidirectional stream through the unmodified AWS SDK. Input events go through a queue
 * that the SDK pulls as an async iterable, so each one leaves as soon as it is queued; output events come
 * back parsed, in order, from events(). The stream is opened by open() with sessionStart, promptStart and
 * the system prompt (what a warm pool can do before a call); the call then adds optional history, starts
 * the audio and feeds it. close() ends in protocol order (contentEnd audio -> promptEnd -> sessionEnd).
 *
 * The SDK's send() settles only at the first output event, so it is never awaited before input is fed.
 * An output that ends without completionEnd, before we ended the session, is an error (model_stream_ended):
 * that is how a reset, an abort on the far side or an idle timeout shows.
 */
import { randomUUID } from "node:crypto";
import {
  type BedrockRuntimeClient,
  InvokeModelWithBidirectionalStreamCommand,
  type InvokeModelWithBidirectionalStreamInput,
} from "@aws-sdk/client-bedrock-runtime";
import { AppError, describeError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/log.ts";
import {
  audioContentStartEvent,
  audioInputEvent,
  contentEndEvent,
  type EndpointingSensitivity,
  type NovaInputEvent,
  type NovaOutputEvent,
  type NovaSampleRateHz,
  parseNovaOutputEvent,
  promptEndEvent,
  promptStartEvent,
  sessionEndEvent,
  sessionStartEvent,
  type ToolDeclaration,
  textContentStartEvent,
  textInputEvent,
  toolContentStartEvent,
  toolResultEvent,
} from "../../shared/nova-events.ts";
import { AsyncQueue } from "./async-queue.ts";
import { modelError } from "./model-errors.ts";

export interface NovaSessionConfig {
  modelId: string;
  voiceId: string;
  systemPrompt: string;
  inputSampleRateHz: NovaSampleRateHz;
  outputSampleRateHz: NovaSampleRateHz;
  endpointingSensitivity: EndpointingSensitivity;
  maxTokens: number;
  temperature: number;
  topP: number;
  tools?: readonly ToolDeclaration[];
}

export interface NovaSessionOptions {
  client: BedrockRuntimeClient;
  logger: Logger;
  /** Cancels the stream: the request is aborted and events() ends. */
  signal?: AbortSignal;
  /** How long close() waits for the model to end the stream before aborting it. */
  closeTimeoutMs?: number;
  /** Input events allowed to wait unsent before the session fails (a stuck connection). */
  maxQueuedInputs?: number;
  now?: () => number;
}

export interface HistoryMessage {
  role: "USER" | "ASSISTANT";
  text: string;
}

/** Epoch milliseconds (sub-millisecond precision) of the stream's milestones. */
export interface NovaSessionTimestamps {
  openedAtMs: number;
  /** The SDK took the first input event: the request is being sent. */
  firstInputTakenAtMs: number | undefined;
  /** The service answered the request (HTTP 200 headers): the connection is up, the stream accepted. */
  acceptedAtMs: number | undefined;
  /** The SDK's send() settled (it does so at the first output event). */
  responseAtMs: number | undefined;
  firstOutputAtMs: number | undefined;
  closeRequestedAtMs: number | undefined;
  endedAtMs: number | undefined;
}

export type NovaSessionEnd =
  | { kind: "completed" }
  | { kind: "closed" }
  | { kind: "aborted" }
  | { kind: "failed"; error: AppError };

const DEFAULT_CLOSE_TIMEOUT_MS = 1000;
const DEFAULT_MAX_QUEUED_INPUTS = 2000;
const encoder = new TextEncoder();

function preciseNowMs(): number {
  return performance.timeOrigin + performance.now();
}

export class NovaSession {
  readonly promptName = randomUUID();
  readonly timestamps: NovaSessionTimestamps;
  readonly #config: NovaSessionConfig;
  readonly #options: NovaSessionOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #input = new AsyncQueue<InvokeModelWithBidirectionalStreamInput>({
    onTake: () => {
      this.timestamps.firstInputTakenAtMs ??= this.#now();
    },
  });
  readonly #output = new AsyncQueue<NovaOutputEvent>();
  readonly #abort = new AbortController();
  #audioContentName: string | undefined;
  #audioStarted = false;
  #sessionEndSent = false;
  #sawCompletionEnd = false;
  #end: NovaSessionEnd | undefined;
  #resolveEnded!: (end: NovaSessionEnd) => void;
  /** Settles when the stream is over; never rejects. */
  readonly ended: Promise<NovaSessionEnd>;
  #resolveAccepted!: (accepted: boolean) => void;
  /**
   * Settles true when the service accepts the stream (its HTTP response headers arrived: the connection
   * is set up and input flows to the model), false if the stream ends first. Never rejects.
   */
  readonly accepted: Promise<boolean>;
  #closing: Promise<NovaSessionEnd> | undefined;

  private constructor(config: NovaSessionConfig, options: NovaSessionOptions) {
    this.#config = config;
    this.#options = options;
    this.#now = options.now ?? preciseNowMs;
    this.#log = options.logger.child({ component: "nova-session", promptName: this.promptName });
    this.timestamps = {
      openedAtMs: this.#now(),
      firstInputTakenAtMs: undefined,
      acceptedAtMs: undefined,
      responseAtMs: undefined,
      firstOutputAtMs: undefined,
      closeRequestedAtMs: undefined,
      endedAtMs: undefined,
    };
    this.ended = new Promise((resolve) => {
      this.#resolveEnded = resolve;
    });
    this.accepted = new Promise((resolve) => {
      this.#resolveAccepted = resolve;
    });
  }

  /** Opens the stream and sends sessionStart, promptStart and the system prompt. */
  static open(config: NovaSessionConfig, options: NovaSessionOptions): NovaSession {
    const session = new NovaSession(config, options);
    session.#start();
    return session;
  }

  get isOpen(): boolean {
    return this.#end === undefined && !this.#sessionEndSent;
  }

  get audioStarted(): boolean {
    return this.#audioStarted;
  }

  /** The model's output events, in order. Ends after the stream ends; throws the AppError if it failed. */
  events(): AsyncIterable<NovaOutputEvent> {
    return this.#output;
  }

  /** Conversation history (e.g. a session carried over); only before the audio starts. */
  addHistory(messages: readonly HistoryMessage[]): void {
    if (this.#audioStarted) throw new AppError("internal", "history must be sent before the audio starts");
    for (const message of messages) this.#textContent(message.role, false, message.text);
  }

  /** Opens the caller's audio content; sendAudio() does it on first use. */
  startAudio(): void {
    if (this.#audioStarted) return;
    this.#audioStarted = true;
    this.#audioContentName = randomUUID();
    this.#send(
      audioContentStartEvent(this.promptName, this.#audioContentName, this.#config.inputSampleRateHz),
    );
  }

  /** One chunk of caller audio: 16-bit little-endian mono PCM at the input rate, as bytes or base64. */
  sendAudio(pcm: Uint8Array | string): void {
    if (!this.isOpen) return;
    this.startAudio();
    const content =
      typeof pcm === "string"
        ? pcm
        : Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength).toString("base64");
    this.#send(audioInputEvent(this.promptName, this.#audioContentName ?? "", content));
  }

  /** An interactive USER text turn (the greeting request, a DTMF digit told as text). */
  sendText(text: string): void {
    if (!this.isOpen) return;
    this.#textContent("USER", true, text);
  }

  /** The result of a toolUse, as JSON text (objects are serialised). */
  sendToolResult(toolUseId: string, result: string | Record<string, unknown>): void {
    if (!this.isOpen) return;
    const contentName = randomUUID();
    this.#send(toolContentStartEvent(this.promptName, contentName, toolUseId));
    this.#send(
      toolResultEvent(
        this.promptName,
        contentName,
        typeof result === "string" ? result : JSON.stringify(result),
      ),
    );
    this.#send(contentEndEvent(this.promptName, contentName));
  }

  /**
   * Ends the session in protocol order and waits for the model to end the stream; after closeTimeoutMs
   * (default 1 s) the request is aborted instead. Resolves with how the session ended.
   */
  close(): Promise<NovaSessionEnd> {
    if (this.#closing) return this.#closing;
    this.timestamps.closeRequestedAtMs = this.#now();
    if (this.#end === undefined) {
      if (this.#audioContentName) this.#send(contentEndEvent(this.promptName, this.#audioContentName));
      this.#send(promptEndEvent(this.promptName));
      this.#send(sessionEndEvent());
      this.#sessionEndSent = true;
      this.#input.end();
    }
    const timeoutMs = this.#options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    this.#closing = Promise.race([this.ended, timeout]).then(() => {
      clearTimeout(timer);
      if (this.#end === undefined) {
        this.#log.warn("model did not end the stream in time; aborting", { timeoutMs });
        this.#finish({ kind: "closed" });
        this.#abort.abort();
      }
      return this.#end ?? { kind: "closed" };
    });
    return this.#closing;
  }

  #start(): void {
    const config = this.#config;
    const { signal } = this.#options;
    if (signal?.aborted) {
      this.#finish({ kind: "aborted" });
      return;
    }
    signal?.addEventListener("abort", () => this.#cancel(), { once: true });
    this.#send(
      sessionStartEvent({
        maxTokens: config.maxTokens,
        topP: config.topP,
        temperature: config.temperature,
        endpointingSensitivity: config.endpointingSensitivity,
      }),
    );
    this.#send(
      promptStartEvent({
        promptName: this.promptName,
        outputSampleRateHz: config.outputSampleRateHz,
        voiceId: config.voiceId,
        ...(config.tools ? { tools: config.tools } : {}),
      }),
    );
    this.#textContent("SYSTEM", false, config.systemPrompt);
    const body = this.#input;
    const command = new InvokeModelWithBidirectionalStreamCommand({ modelId: config.modelId, body });
    // Innermost in the deserialize step, `next` is the HTTP handler: it settles when the response headers
    // arrive, long before send() settles (at the first output event).
    command.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        const { response } = result;
        const status =
          typeof response === "object" && response !== null && "statusCode" in response
            ? response.statusCode
            : undefined;
        if (status === 200 && this.#end === undefined) {
          this.timestamps.acceptedAtMs ??= this.#now();
          this.#resolveAccepted(true);
        }
        return result;
      },
      { step: "deserialize", name: "novaStreamAccepted", priority: "low" },
    );
    // Not awaited before feeding input: send() settles only at the first output event.
    this.#options.client
      .send(command, { abortSignal: this.#abort.signal })
      .then(
        (response) => {
          this.timestamps.responseAtMs = this.#now();
          if (!response.body) throw new AppError("model_stream_ended", "the response has no event stream");
          return this.#consume(response.body);
        },
        (error: unknown) => {
          throw modelError(error, "opening the stream");
        },
      )
      .then(
        () => this.#outputEnded(),
        (error: unknown) => this.#failed(error),
      );
  }

  async #consume(body: AsyncIterable<{ chunk?: { bytes?: Uint8Array } }>): Promise<void> {
    try {
      for await (const item of body) {
        const bytes = item.chunk?.bytes;
        if (!bytes) {
          this.#log.warn("unexpected output member", { members: Object.keys(item) });
          continue;
        }
        let event: NovaOutputEvent;
        try {
          event = parseNovaOutputEvent(bytes);
        } catch (error) {
          this.#log.warn("output event skipped", { error: describeError(error) });
          continue;
        }
        if (this.timestamps.firstOutputAtMs === undefined) this.timestamps.firstOutputAtMs = this.#now();
        if (event.kind === "completionEnd") this.#sawCompletionEnd = true;
        this.#output.push(event);
      }
    } catch (error) {
      throw modelError(error, "reading the stream");
    }
  }

  #outputEnded(): void {
    if (this.#end !== undefined) return;
    if (this.#abort.signal.aborted) this.#finish({ kind: "aborted" });
    else if (this.#sawCompletionEnd) this.#finish({ kind: "completed" });
    else if (this.#sessionEndSent) this.#finish({ kind: "closed" });
    else {
      this.#failed(new AppError("model_stream_ended", "the model's output ended without completionEnd"));
    }
  }

  #failed(error: unknown): void {
    if (this.#end !== undefined) return;
    if (this.#abort.signal.aborted) {
      this.#finish({ kind: "aborted" });
      return;
    }
    const appError = modelError(error, "nova stream");
    this.#log.warn("stream failed", { code: appError.code, error: describeError(appError) });
    this.#finish({ kind: "failed", error: appError });
  }

  #cancel(): void {
    if (this.#end !== undefined) return;
    this.#finish({ kind: "aborted" });
    this.#abort.abort();
  }

  #finish(end: NovaSessionEnd): void {
    if (this.#end !== undefined) return;
    this.#end = end;
    this.timestamps.endedAtMs = this.#now();
    this.#input.end();
    this.#output.end(end.kind === "failed" ? end.error : undefined);
    this.#resolveAccepted(false);
    this.#resolveEnded(end);
  }

  #textContent(role: "SYSTEM" | "USER" | "ASSISTANT", interactive: boolean, text: string): void {
    const contentName = randomUUID();
    this.#send(textContentStartEvent(this.promptName, contentName, role, interactive));
    this.#send(textInputEvent(this.promptName, contentName, text));
    this.#send(contentEndEvent(this.promptName, contentName));
  }

  #send(event: NovaInputEvent): void {
    if (this.#end !== undefined) return;
    const limit = this.#options.maxQueuedInputs ?? DEFAULT_MAX_QUEUED_INPUTS;
    if (this.#input.length >= limit) {
      this.#failed(
        new AppError("model_unavailable", `${limit} input events are waiting: the stream is stuck`),
      );
      this.#abort.abort();
      return;
    }
    this.#input.push({ chunk: { bytes: encoder.encode(JSON.stringify(event)) } });
  }
}

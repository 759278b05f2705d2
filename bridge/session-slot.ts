/**
 * One model session as session-continuity.ts tracks it: when it was opened and started, whether the
 * service accepted its stream (connection up) and whether it is confirmed (it produced output, or stayed up
 * CONFIRM_OPEN_MS after opening and CONFIRM_START_MS after its conversation started). Until it is
 * confirmed, what was sent to it is kept, so that a retry on a fresh session gets it again. It also knows
 * the tool uses it issued: a tool result is only ever answered to the session that asked.
 */
import type { HistoryEntry } from "../shared/bridge-protocol.ts";
import { AppError } from "../shared/errors.ts";
import type { ModelSession, ModelSessionListener } from "./model-session.ts";

export const CONFIRM_OPEN_MS = 1500;
export const CONFIRM_START_MS = 500;

export type SlotInput = { kind: "audio"; base64: string } | { kind: "text"; text: string };

export class SessionSlot {
  readonly number: number;
  /** When the stream was opened (earlier than the slot for a pooled or pre-warmed one): its age counts from here. */
  readonly openedAtMs: number;
  readonly session: ModelSession | null;
  startedAtMs: number | null = null;
  /** The interactive text the conversation started with (a retry starts with it again). */
  instruction: string | null = null;
  /** History messages it was given. */
  historyEntries = 0;
  /** The service accepted the stream: its connection is up. */
  accepted = false;
  #confirmed = false;
  #unconfirmed: SlotInput[] = [];
  readonly #toolUseIds = new Set<string>();

  /** Opens the session; if that throws, the listener hears of the failure right after. */
  constructor(args: {
    number: number;
    openedAtMs: number;
    open: (listener: ModelSessionListener) => ModelSession;
    listener: ModelSessionListener;
  }) {
    this.number = args.number;
    let session: ModelSession | null = null;
    try {
      session = args.open(args.listener);
      void session.accepted.then((accepted) => {
        this.accepted = accepted;
      });
    } catch (error) {
      const failure =
        error instanceof AppError
          ? error
          : new AppError("model_unavailable", "the model session could not be opened", { cause: error });
      queueMicrotask(() => args.listener.onEnd(failure));
    }
    this.session = session;
    this.openedAtMs = Math.min(args.openedAtMs, session?.openedAtMs ?? args.openedAtMs);
  }

  get key(): string | undefined {
    return this.session?.key;
  }

  get confirmed(): boolean {
    return this.#confirmed;
  }

  /** The conversation starts: history, then the instruction (interactive USER text), then the audio. */
  begin(history: readonly HistoryEntry[], instruction: string | null, nowMs: number): void {
    this.instruction = instruction;
    this.startedAtMs = nowMs;
    this.session?.start({ history, instruction });
  }

  deliver(input: SlotInput): void {
    if (input.kind === "audio") this.session?.sendAudio(input.base64);
    else this.session?.sendUserText(input.text);
    if (!this.#confirmed) this.#unconfirmed.push(input);
  }

  /** Confirms the session once it has stayed up long enough; returns whether it just became confirmed. */
  confirmIfDue(nowMs: number): boolean {
    if (this.#confirmed || this.startedAtMs === null) return false;
    if (nowMs - this.openedAtMs < CONFIRM_OPEN_MS || nowMs - this.startedAtMs < CONFIRM_START_MS)
      return false;
    this.confirm();
    return true;
  }

  /** The session produced output (or stayed up): what was kept for a retry is let go. */
  confirm(): void {
    this.#confirmed = true;
    this.#unconfirmed = [];
  }

  /** What was sent since the start, for the session that retries it (empty once confirmed). */
  unconfirmedInputs(): SlotInput[] {
    return [...this.#unconfirmed];
  }

  toolUsed(toolUseId: string): void {
    this.#toolUseIds.add(toolUseId);
  }

  /** Sends a tool result if this session asked for it; returns whether it did. */
  answerTool(toolUseId: string, resultJson: string): boolean {
    if (!this.session || !this.#toolUseIds.delete(toolUseId)) return false;
    this.session.sendToolResult(toolUseId, resultJson);
    return true;
  }

  close(): Promise<void> {
    return this.session?.close() ?? Promise.resolve();
  }
}

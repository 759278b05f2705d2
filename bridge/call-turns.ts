/**
 * The turns of one call, pure bookkeeping: which turn the model's output belongs to, the texts we sent
 * ourselves (greeting request, keypad digits) that the model may echo back as USER transcripts, and the
 * `transcript` / `turn` messages for the edge when a turn's reply has been heard or cut.
 *
 * A turn starts with a caller transcript (or, for a greeting or a reply to a keypad press, with the first
 * assistant output); assistant output after the model said END_TURN starts another turn.
 */
import type { TranscriptMessage, TurnMessage } from "../shared/bridge-protocol.ts";
import type { PlayoutReport } from "./playback.ts";
import { newTurn, type TurnRecord, transcriptMessage, turnMessage } from "./turn-record.ts";

export class CallTurns {
  readonly #open = new Map<number, TurnRecord>();
  /** Texts we sent as USER turns → how the turn records them ("" = not at all). */
  readonly #ownTexts = new Map<string, string>();
  #current: TurnRecord | null = null;
  #nextIndex: number;

  constructor(firstIndex = 0) {
    this.#nextIndex = firstIndex;
  }

  get current(): TurnRecord | null {
    return this.#current;
  }

  /** Turns started so far (the index the next one gets). */
  get count(): number {
    return this.#nextIndex;
  }

  /** Continues the numbering of a resumed call. */
  continueFrom(turnsCompleted: number): void {
    if (this.#current === null) this.#nextIndex = turnsCompleted;
  }

  get(index: number): TurnRecord | undefined {
    return this.#open.get(index);
  }

  /** A USER text of ours is on its way to the model; `label` is how its turn records it. */
  sentOwnText(text: string, label: string): void {
    this.#ownTexts.set(text.trim(), label);
  }

  /**
   * A USER transcript from the model. Returns the turn, whether it is the caller's own speech (not a
   * text of ours), and the transcript message to send, if any.
   */
  userText(
    text: string,
    atMs: number,
  ): { turn: TurnRecord; spoken: boolean; message: TranscriptMessage | null } {
    if (this.#current === null || this.#current.replyStarted) this.#begin();
    const turn = this.#current!;
    const key = text.trim();
    const own = this.#ownTexts.get(key);
    if (own !== undefined) this.#ownTexts.delete(key);
    const recorded = own ?? text;
    if (recorded === "") return { turn, spoken: false, message: null };
    turn.userText.push(recorded);
    return {
      turn,
      spoken: own === undefined,
      message: transcriptMessage(turn.index, "USER", recorded, atMs),
    };
  }

  /**
   * The turn that assistant output belongs to, started if needed; `started` tells that its reply begins
   * now. Null while that reply has been cut (its remaining output is dropped).
   */
  replyTurn(): { turn: TurnRecord; started: boolean } | null {
    if (this.#current === null || this.#current.replyEnded) this.#begin();
    const turn = this.#current!;
    if (turn.reply.signal.aborted) return null;
    if (turn.replyStarted) return { turn, started: false };
    turn.replyStarted = true;
    return { turn, started: true };
  }

  /**
   * Closes a turn with its play-out report (null: nothing of it was played); returns the messages for the
   * edge: the ASSISTANT transcript of what was heard (if anything was), then the turn record.
   */
  finish(
    index: number,
    report: PlayoutReport | null,
    atMs: number,
  ): { turn: TurnMessage; transcript: TranscriptMessage | null } | null {
    const turn = this.#open.get(index);
    if (!turn) return null;
    this.#open.delete(index);
    const message = turnMessage(turn, report);
    const transcript =
      message.heardText === "" ? null : transcriptMessage(turn.index, "ASSISTANT", message.heardText, atMs);
    return { turn: message, transcript };
  }

  #begin(): void {
    const turn = newTurn(this.#nextIndex++);
    this.#open.set(turn.index, turn);
    this.#current = turn;
  }
}

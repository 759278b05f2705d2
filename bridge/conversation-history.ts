/**
 * The conversation of one call as a fresh model session needs it: what the caller said (their
 * transcripts, and the texts we gave the model in their name, e.g. a keypad press) and what the caller
 * actually HEARD of each reply (turn-record heardText), cached prompts included, in order. Fed from the
 * call's `transcript` messages; handed to a new session as history (model-session.ts fits it to the
 * service's limits: about 40 messages of about 1 KB, the most recent kept, the first from the USER).
 * Pure.
 */
import type { BridgeControl, HistoryEntry } from "../shared/bridge-protocol.ts";

/** Entries kept at most: comfortably more than the model takes, so that merging never starves it. */
const MAX_ENTRIES = 200;

export class ConversationHistory {
  readonly #opening: string;
  #entries: HistoryEntry[] = [];

  /**
   * `opening`: the USER text that started the conversation (the greeting request); it leads the history
   * when the conversation so far begins with the agent, as the model requires a USER message first.
   */
  constructor(opening: string) {
    this.#opening = opening.trim();
  }

  /** A resumed call: the conversation so far, as the edge kept it. */
  seed(entries: readonly HistoryEntry[]): void {
    for (const entry of entries) this.add(entry.role, entry.text);
  }

  /** Takes the transcripts among the call's control messages (ASSISTANT ones hold the heard text). */
  record(message: BridgeControl): void {
    if (message.bridge === "transcript") this.add(message.role, message.text);
  }

  /** A text the caller heard (or said); consecutive texts of one role are merged into one message. */
  add(role: HistoryEntry["role"], text: string): void {
    const trimmed = text.trim();
    if (trimmed === "") return;
    const last = this.#entries.at(-1);
    if (last?.role === role) {
      this.#entries[this.#entries.length - 1] = { role, text: `${last.text} ${trimmed}` };
      return;
    }
    this.#entries.push({ role, text: trimmed });
    if (this.#entries.length > MAX_ENTRIES) this.#entries.splice(0, this.#entries.length - MAX_ENTRIES);
  }

  get length(): number {
    return this.#entries.length;
  }

  /** Whether the caller has heard the agent at all yet. */
  get agentHeard(): boolean {
    return this.#entries.some((entry) => entry.role === "ASSISTANT");
  }

  /**
   * The history for a new session. `replyInProgress`: the text of a reply the caller is hearing right
   * now (it plays on across the switch), counted as heard.
   */
  entries(replyInProgress = ""): HistoryEntry[] {
    const entries = [...this.#entries];
    const playing = replyInProgress.trim();
    if (playing !== "") {
      const last = entries.at(-1);
      if (last?.role === "ASSISTANT")
        entries[entries.length - 1] = { ...last, text: `${last.text} ${playing}` };
      else entries.push({ role: "ASSISTANT", text: playing });
    }
    if (entries[0]?.role === "ASSISTANT" && this.#opening !== "") {
      entries.unshift({ role: "USER", text: this.#opening });
    }
    return entries;
  }
}

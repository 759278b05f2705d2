/**
 * The softphone page (GET /phone): sign in with the admin token, then call the agent from the browser.
 * The call takes Twilio's path through the edge: POST /phone/calls admits it like /voice (bridge,
 * pre-warm, record), the media WebSocket carries the same Media Streams frames, and the transcript and
 * per-turn latency come from the call record (GET /calls/{sid}, polled every second).
 */
import { type AdminSession, signIn, Unauthorized } from "../admin-session.ts";
import type { CallView } from "../call-record.ts";
import { poolLabel, transcriptView } from "../call-views.ts";
import { byId, render } from "../view-dom.ts";
import { h } from "../view-tree.ts";
import { ActiveCall, type Counters, type PhoneState } from "./active-call.ts";

class PhonePage {
  readonly #session: AdminSession;
  readonly #root = byId("phone", HTMLElement);
  readonly #callButton = byId("call", HTMLButtonElement);
  readonly #hangupButton = byId("hangup", HTMLButtonElement);
  readonly #muteBox = byId("mute", HTMLInputElement);
  readonly #status = byId("status", HTMLElement);
  readonly #counters = byId("counters", HTMLElement);
  readonly #summary = byId("summary", HTMLElement);
  readonly #transcript = byId("transcript", HTMLElement);
  #call: ActiveCall | null = null;
  /** Which call the page shows: events of an earlier call (its last poll) are ignored. */
  #generation = 0;

  constructor(session: AdminSession) {
    this.#session = session;
    this.#root.hidden = false;
    this.#callButton.onclick = () => void this.#start();
    this.#hangupButton.onclick = () => this.#call?.hangUp("you hung up");
    this.#muteBox.onchange = () => this.#call?.mute(this.#muteBox.checked);
    this.#setState("idle", "Ready to call.");
  }

  async #start(): Promise<void> {
    if (this.#call !== null) return;
    const generation = ++this.#generation;
    const current = () => generation === this.#generation;
    this.#setState("connecting", "Opening the microphone…");
    render(this.#transcript);
    render(this.#summary);
    try {
      this.#call = await ActiveCall.place(this.#session, {
        onState: (state, detail) => current() && this.#setState(state, detail),
        onCounters: (counters) => current() && this.#showCounters(counters),
        onRecord: (record) => current() && this.#showRecord(record),
        onEnded: () => {
          if (current()) this.#call = null;
        },
      });
      this.#call.mute(this.#muteBox.checked);
    } catch (error) {
      this.#call = null;
      this.#setState("idle", `Could not call: ${error instanceof Error ? error.message : String(error)}`);
      if (error instanceof Unauthorized) location.reload();
    }
  }

  #setState(state: PhoneState, detail: string): void {
    this.#root.dataset.state = state;
    this.#status.textContent = detail;
    this.#callButton.disabled = state === "connecting" || state === "in-call";
    this.#hangupButton.disabled = state !== "in-call" && state !== "connecting";
  }

  #showCounters(c: Counters): void {
    render(
      this.#counters,
      h(
        "span",
        {},
        `sent ${c.framesSent} frames · received ${c.framesReceived} · heard ${(c.playedMs / 1000).toFixed(1)} s` +
          ` · buffered ${Math.round(c.bufferedMs)} ms · marks echoed ${c.marksEchoed} · clears ${c.clears}` +
          (c.invalidFrames > 0 ? ` · invalid frames ${c.invalidFrames}` : ""),
      ),
    );
    this.#counters.dataset.playedMs = String(Math.round(c.playedMs));
    this.#counters.dataset.marksEchoed = String(c.marksEchoed);
    this.#counters.dataset.clears = String(c.clears);
  }

  #showRecord(record: CallView): void {
    const bridge = record.streamBridgeId ?? record.bridge?.id ?? "no bridge";
    render(
      this.#summary,
      h("span", { class: "sid" }, record.callSid),
      h("span", { class: "status" }, record.status),
      h("span", { class: "bridge" }, bridge),
      h("span", { class: "pool" }, poolLabel(record.sessionWarm)),
    );
    render(this.#transcript, transcriptView(record));
  }
}

signIn().then(
  (session) => new PhonePage(session),
  (error: unknown) => console.error("softphone: sign-in failed", error),
);

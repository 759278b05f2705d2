/**
 * The live calls dashboard (GET /dashboard): after sign-in, the recent calls (GET /calls) every second,
 * each with its record (GET /calls/{sid}): status, bridge, pool hit or miss, the transcript with heard
 * and unheard parts of interrupted replies, and each turn's latency waterfall. Active calls are fetched
 * on every refresh; a finished call once more after it ended, then kept.
 */
import { type AdminSession, signIn, Unauthorized } from "../admin-session.ts";
import { type CallView, isActive, parseCallList, parseCallRecord } from "../call-record.ts";
import { callView } from "../call-views.ts";
import { byId, render } from "../view-dom.ts";
import { h } from "../view-tree.ts";

const REFRESH_MS = 1000;
const RECENT_CALLS = 20;

class Dashboard {
  readonly #session: AdminSession;
  readonly #root = byId("dashboard", HTMLElement);
  readonly #calls = byId("calls", HTMLElement);
  readonly #updated = byId("updated", HTMLElement);
  readonly #pause = byId("pause", HTMLInputElement);
  /** Finished calls whose final record has been fetched: they no longer change. */
  readonly #final = new Map<string, CallView>();
  #lastRendered = "";

  constructor(session: AdminSession) {
    this.#session = session;
    this.#root.hidden = false;
  }

  async run(): Promise<void> {
    for (;;) {
      if (!this.#pause.checked) {
        try {
          await this.#refresh();
        } catch (error) {
          if (error instanceof Unauthorized) {
            location.reload();
            return;
          }
          this.#updated.textContent = `refresh failed: ${error instanceof Error ? error.message : String(error)}`;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, REFRESH_MS));
    }
  }

  async #refresh(): Promise<void> {
    const list = parseCallList(await this.#session.json(`/calls?limit=${RECENT_CALLS}`));
    const records = await Promise.all(
      list.calls.map(async (entry): Promise<CallView | null> => {
        const known = this.#final.get(entry.callSid);
        if (known && !isActive(entry.status)) return known;
        try {
          const record = parseCallRecord(await this.#session.json(`/calls/${entry.callSid}`));
          if (!isActive(record.status)) this.#final.set(record.callSid, record);
          return record;
        } catch (error) {
          if (error instanceof Unauthorized) throw error;
          return null;
        }
      }),
    );
    const listed = new Set(list.calls.map((entry) => entry.callSid));
    for (const callSid of this.#final.keys()) if (!listed.has(callSid)) this.#final.delete(callSid);
    const calls = records.filter((record): record is CallView => record !== null);
    const active = calls.filter((call) => isActive(call.status));
    const recent = calls.filter((call) => !isActive(call.status));
    const nowMs = Date.now();
    this.#updated.textContent = `updated ${new Date(nowMs).toLocaleTimeString([], { hour12: false })}`;
    // Re-render only when something changed (keeps text selectable); durations of live calls tick.
    const fingerprint = JSON.stringify([calls, active.length > 0 ? Math.floor(nowMs / 1000) : 0]);
    if (fingerprint === this.#lastRendered) return;
    this.#lastRendered = fingerprint;
    render(
      this.#calls,
      h("h2", { class: "group" }, `Active calls (${active.length})`),
      active.length === 0 ? h("p", { class: "muted" }, "No call in progress.") : h("div", {}),
      ...active.map((call) => callView(call, nowMs)),
      h("h2", { class: "group" }, `Recent calls (${recent.length})`),
      ...recent.map((call) => callView(call, nowMs)),
    );
  }
}

signIn().then(
  (session) => new Dashboard(session).run(),
  (error: unknown) => console.error("dashboard: sign-in failed", error),
);

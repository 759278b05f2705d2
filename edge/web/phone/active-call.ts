/**
 * One call from the browser: its audio graph, its Media Stream over the edge's WebSocket (the stream
 * token offered as a subprotocol), and the polling of its call record.
 */
import type { AdminSession } from "../admin-session.ts";
import { type CallView, isActive, parseCallRecord, parseSoftphoneCall } from "../call-record.ts";
import { MediaStreamClient, newStreamSid } from "./media-stream-client.ts";
import { PhoneAudio } from "./phone-audio.ts";

const POLL_MS = 1000;

export type PhoneState = "idle" | "connecting" | "in-call" | "ended";

export interface Counters {
  framesSent: number;
  framesReceived: number;
  marksEchoed: number;
  clears: number;
  invalidFrames: number;
  playedMs: number;
  bufferedMs: number;
}

export interface CallEvents {
  onState(state: PhoneState, detail: string): void;
  onCounters(counters: Counters): void;
  onRecord(record: CallView): void;
  onEnded(): void;
}

export class ActiveCall {
  readonly #session: AdminSession;
  readonly #events: CallEvents;
  readonly #audio: PhoneAudio;
  readonly #client: MediaStreamClient;
  readonly #socket: WebSocket;
  readonly #counters: Counters = {
    framesSent: 0,
    framesReceived: 0,
    marksEchoed: 0,
    clears: 0,
    invalidFrames: 0,
    playedMs: 0,
    bufferedMs: 0,
  };
  #streaming = false;
  #ended = false;
  #pollTimer: ReturnType<typeof setTimeout> | null = null;

  private constructor(
    session: AdminSession,
    events: CallEvents,
    audio: PhoneAudio,
    client: MediaStreamClient,
    socket: WebSocket,
  ) {
    this.#session = session;
    this.#events = events;
    this.#audio = audio;
    this.#client = client;
    this.#socket = socket;
  }

  static async place(session: AdminSession, events: CallEvents): Promise<ActiveCall> {
    let call: ActiveCall | null = null;
    const audio = await PhoneAudio.open({
      onFrame: (mulaw) => {
        if (call) call.#sendFrame(mulaw);
      },
      onMarks: (names) => {
        if (call) call.#echoMarks(names);
      },
      onStats: (playedMs, bufferedMs) => {
        if (call) call.#stats(playedMs, bufferedMs);
      },
    });
    try {
      events.onState("connecting", "Calling the agent…");
      const created = parseSoftphoneCall(await session.json("/phone/calls", { method: "POST" }));
      const client = new MediaStreamClient({
        callSid: created.callSid,
        accountSid: created.accountSid,
        streamSid: newStreamSid(),
        streamToken: created.streamToken,
      });
      const origin = location.origin.replace(/^http/, "ws");
      // The stream token rides as a second subprotocol; the edge selects ours and checks the token.
      const socket = new WebSocket(origin + created.streamPath, [created.subprotocol, created.streamToken]);
      call = new ActiveCall(session, events, audio, client, socket);
      call.#wire();
      return call;
    } catch (error) {
      await audio.close();
      throw error;
    }
  }

  mute(muted: boolean): void {
    this.#audio.mute(muted);
  }

  hangUp(reason: string): void {
    if (this.#socket.readyState === WebSocket.OPEN) {
      this.#socket.send(this.#client.stop());
      this.#socket.close(1000, "hang up");
    }
    void this.#end(reason);
  }

  #wire(): void {
    const socket = this.#socket;
    socket.onopen = () => {
      socket.send(this.#client.connected());
      socket.send(this.#client.start());
      this.#streaming = true;
      this.#events.onState("in-call", `In call ${this.#client.identity.callSid}`);
      this.#poll();
    };
    socket.onmessage = (event: MessageEvent<unknown>) => {
      if (typeof event.data !== "string") {
        this.#counters.invalidFrames += 1;
        return;
      }
      this.#onFrame(event.data);
    };
    socket.onclose = (event) => {
      const why =
        event.code === 1000 ? "the call ended" : `the stream closed (${event.code} ${event.reason})`;
      void this.#end(why);
    };
  }

  #onFrame(text: string): void {
    const command = this.#client.receive(text);
    switch (command.kind) {
      case "media":
        this.#counters.framesReceived += 1;
        this.#audio.play(command.mulaw);
        return;
      case "mark":
        this.#audio.mark(command.name);
        return;
      case "clear":
        this.#counters.clears += 1;
        this.#audio.clear();
        return;
      case "invalid":
        this.#counters.invalidFrames += 1;
        console.warn("softphone: invalid frame from the edge:", command.reason);
        return;
    }
  }

  #sendFrame(mulaw: Uint8Array): void {
    if (!this.#streaming || this.#socket.readyState !== WebSocket.OPEN) return;
    this.#socket.send(this.#client.media(mulaw));
    this.#counters.framesSent += 1;
  }

  #echoMarks(names: readonly string[]): void {
    for (const name of names) {
      if (this.#socket.readyState !== WebSocket.OPEN) return;
      this.#socket.send(this.#client.markEcho(name));
      this.#counters.marksEchoed += 1;
    }
  }

  #stats(playedMs: number, bufferedMs: number): void {
    this.#counters.playedMs = playedMs;
    this.#counters.bufferedMs = bufferedMs;
    this.#events.onCounters(this.#counters);
  }

  #poll(): void {
    this.#pollTimer = null;
    const callSid = this.#client.identity.callSid;
    this.#session
      .json(`/calls/${callSid}`)
      .then((json) => {
        const record = parseCallRecord(json);
        this.#events.onRecord(record);
        return record;
      })
      .then(
        (record) => {
          if (!this.#ended || isActive(record.status))
            this.#pollTimer = setTimeout(() => this.#poll(), POLL_MS);
        },
        (error: unknown) => {
          console.warn("softphone: call record:", error);
          if (!this.#ended) this.#pollTimer = setTimeout(() => this.#poll(), POLL_MS);
        },
      );
  }

  async #end(reason: string): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    this.#streaming = false;
    await this.#audio.close();
    this.#events.onCounters(this.#counters);
    this.#events.onState("ended", `Call ended: ${reason}.`);
    this.#events.onEnded();
    // One more look at the record once the edge has closed it (then polling stops by itself).
    if (this.#pollTimer !== null) clearTimeout(this.#pollTimer);
    this.#poll();
  }
}

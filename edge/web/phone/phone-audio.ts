/**
 * The softphone's audio graph: microphone → capture worklet (frames out), playback worklet → speaker.
 * One AudioContext at 48 kHz (a 6:1 ratio to 8 kHz for the shared resampler; the browser converts the
 * devices' own rates). The microphone keeps the browser's echo cancellation on: the agent's voice from
 * the speaker must not come back as the caller's speech.
 */
import {
  CAPTURE_PROCESSOR,
  type CaptureCommand,
  PLAYBACK_PROCESSOR,
  type PlaybackCommand,
  parseCaptureEvent,
  parsePlaybackEvent,
} from "./worklet-messages.ts";

export const AUDIO_CONTEXT_RATE_HZ = 48_000;
const WORKLET_URL = "/assets/phone-worklet.js";

export interface PhoneAudioEvents {
  onFrame(mulaw: Uint8Array): void;
  onMarks(names: readonly string[]): void;
  onStats(playedMs: number, bufferedMs: number): void;
}

export class PhoneAudio {
  readonly #context: AudioContext;
  readonly #microphone: MediaStream;
  readonly #capture: AudioWorkletNode;
  readonly #playback: AudioWorkletNode;

  private constructor(
    context: AudioContext,
    microphone: MediaStream,
    capture: AudioWorkletNode,
    playback: AudioWorkletNode,
  ) {
    this.#context = context;
    this.#microphone = microphone;
    this.#capture = capture;
    this.#playback = playback;
  }

  /** Asks for the microphone and starts the graph (call from a click: browsers need a user gesture). */
  static async open(events: PhoneAudioEvents): Promise<PhoneAudio> {
    const microphone = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    const context = new AudioContext({ sampleRate: AUDIO_CONTEXT_RATE_HZ, latencyHint: "interactive" });
    try {
      await context.audioWorklet.addModule(WORKLET_URL);
      const capture = new AudioWorkletNode(context, CAPTURE_PROCESSOR, {
        numberOfInputs: 1,
        numberOfOutputs: 0,
        channelCount: 1,
        channelCountMode: "explicit",
      });
      const playback = new AudioWorkletNode(context, PLAYBACK_PROCESSOR, {
        numberOfInputs: 0,
        numberOfOutputs: 1,
        outputChannelCount: [1],
      });
      capture.port.onmessage = (event: MessageEvent<unknown>) =>
        events.onFrame(parseCaptureEvent(event.data).mulaw);
      playback.port.onmessage = (event: MessageEvent<unknown>) => {
        const message = parsePlaybackEvent(event.data);
        if (message.type === "marks") events.onMarks(message.names);
        else events.onStats(message.playedMs, message.bufferedMs);
      };
      context.createMediaStreamSource(microphone).connect(capture);
      playback.connect(context.destination);
      await context.resume();
      return new PhoneAudio(context, microphone, capture, playback);
    } catch (error) {
      for (const track of microphone.getTracks()) track.stop();
      await context.close();
      throw error;
    }
  }

  play(mulaw: Uint8Array): void {
    this.#toPlayback({ type: "media", mulaw }, [mulaw.buffer]);
  }

  mark(name: string): void {
    this.#toPlayback({ type: "mark", name });
  }

  clear(): void {
    this.#toPlayback({ type: "clear" });
  }

  mute(muted: boolean): void {
    this.#capture.port.postMessage({ type: "mute", muted } satisfies CaptureCommand);
  }

  async close(): Promise<void> {
    this.#capture.port.postMessage({ type: "stop" } satisfies CaptureCommand);
    this.#toPlayback({ type: "stop" });
    for (const track of this.#microphone.getTracks()) track.stop();
    await this.#context.close();
  }

  #toPlayback(command: PlaybackCommand, transfer: Transferable[] = []): void {
    this.#playback.port.postMessage(command, transfer);
  }
}

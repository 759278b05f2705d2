/**
 * The softphone's audio thread (AudioWorkletGlobalScope): the capture processor turns the microphone
 * into 20 ms μ-law frames, the playback processor plays what the agent sends, echoing marks as their
 * audio plays and emptying its queue on clear. Messages with the main thread are in worklet-messages.ts.
 */
import { CaptureEncoder } from "./capture-encoder.ts";
import { PlaybackDecoder } from "./playback-decoder.ts";
import { PlaybackQueue } from "./playback-queue.ts";
import {
  CAPTURE_PROCESSOR,
  type CaptureCommand,
  type CaptureEvent,
  PLAYBACK_PROCESSOR,
  type PlaybackCommand,
  type PlaybackEvent,
  parseCaptureCommand,
  parsePlaybackCommand,
} from "./worklet-messages.ts";

// The AudioWorkletGlobalScope, which TypeScript's DOM library does not describe.
declare const sampleRate: number;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}
declare function registerProcessor(
  name: string,
  processor: new () => AudioWorkletProcessor & {
    process(inputs: Float32Array[][], outputs: Float32Array[][]): boolean;
  },
): void;

/** How often the playback processor reports what it played (for the page; marks go at once). */
const STATS_EVERY_BLOCKS = 40;

class CaptureProcessor extends AudioWorkletProcessor {
  readonly #encoder = new CaptureEncoder(sampleRate);
  #running = true;

  constructor() {
    super();
    this.port.onmessage = (event: MessageEvent<unknown>) => this.#command(parseCaptureCommand(event.data));
  }

  #command(command: CaptureCommand): void {
    if (command.type === "mute") this.#encoder.muted = command.muted;
    else this.#running = false;
  }

  process(inputs: Float32Array[][]): boolean {
    const block = inputs[0]?.[0];
    if (block) {
      for (const frame of this.#encoder.push(block)) {
        this.port.postMessage({ type: "frame", mulaw: frame } satisfies CaptureEvent, [frame.buffer]);
      }
    }
    return this.#running;
  }
}

class PlaybackProcessor extends AudioWorkletProcessor {
  readonly #decoder = new PlaybackDecoder(sampleRate);
  readonly #queue = new PlaybackQueue();
  #blocks = 0;
  #audioSamples = 0;
  #running = true;

  constructor() {
    super();
    this.port.onmessage = (event: MessageEvent<unknown>) => this.#command(parsePlaybackCommand(event.data));
  }

  #command(command: PlaybackCommand): void {
    switch (command.type) {
      case "media":
        this.#queue.enqueue(this.#decoder.decode(command.mulaw));
        return;
      case "mark":
        this.#echo(this.#queue.mark(command.name));
        return;
      case "clear":
        this.#decoder.reset();
        this.#echo(this.#queue.clear());
        return;
      case "stop":
        this.#running = false;
        return;
    }
  }

  #echo(names: readonly string[]): void {
    if (names.length > 0) this.port.postMessage({ type: "marks", names: [...names] } satisfies PlaybackEvent);
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const channel = outputs[0]?.[0];
    if (channel) {
      const { audioSamples, marks } = this.#queue.render(channel);
      this.#audioSamples += audioSamples;
      this.#echo(marks);
      if (++this.#blocks % STATS_EVERY_BLOCKS === 0) {
        this.port.postMessage({
          type: "stats",
          playedMs: (this.#audioSamples / sampleRate) * 1000,
          bufferedMs: (this.#queue.bufferedSamples / sampleRate) * 1000,
        } satisfies PlaybackEvent);
      }
    }
    return this.#running;
  }
}

registerProcessor(CAPTURE_PROCESSOR, CaptureProcessor);
registerProcessor(PLAYBACK_PROCESSOR, PlaybackProcessor);

import { describe, expect, it } from "vitest";
import { PlaybackBuffer } from "../test/phone/playback-buffer.ts";
import { Playback, type PlaybackOutput } from "./playback.ts";

/** μ-law bytes whose values count up, so that order and completeness can be checked. */
function audio(ms: number, start = 0): Uint8Array {
  return Uint8Array.from({ length: ms * 8 }, (_, i) => (start + i) % 251);
}

/** Plays the outputs of a tick into Twilio's emulated buffer; returns the mark echoes due by `nowMs`. */
function deliver(buffer: PlaybackBuffer, outputs: PlaybackOutput[], nowMs: number): void {
  for (const output of outputs) {
    if (output.kind === "media") buffer.enqueue(output.mulaw, nowMs);
    else buffer.mark(output.name, nowMs);
  }
}

/** A deterministic, irregular timer: 20 ms ± up to 30 ms late. */
function* jitteryClock(startMs: number): Generator<number> {
  let nowMs = startMs;
  let seed = 7;
  for (;;) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    nowMs += 12 + (seed % 45);
    yield nowMs;
  }
}

describe("Playback pacing", () => {
  it("releases the lead at once, then keeps Twilio's buffer within the lead", () => {
    const playback = new Playback({ leadMs: 100 });
    playback.startReply(0);
    playback.addAudio(audio(1000));
    const first = playback.tick(1000);
    expect(first.filter((output) => output.kind === "media")).toHaveLength(5);
    expect(playback.bufferedMs(1000)).toBe(100);
    expect(playback.tick(1010).filter((output) => output.kind === "media")).toHaveLength(0);
    expect(playback.nextTickMs()).toBe(1020);
    expect(playback.tick(1020).filter((output) => output.kind === "media")).toHaveLength(1);
  });

  it("plays a reply that arrives faster than real time with no gap, under a jittery timer", () => {
    const playback = new Playback({ leadMs: 100 });
    const twilio = new PlaybackBuffer();
    const reply = audio(3000);
    playback.startReply(0);
    // The model delivers 3 s of audio in odd-sized chunks within the first 300 ms.
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < reply.length; at += 777) chunks.push(reply.subarray(at, at + 777));
    const played: number[] = [];
    const echoed: string[] = [];
    let maxBufferedMs = 0;
    const clock = jitteryClock(0);
    let report = null;
    for (let nowMs = clock.next().value; nowMs < 5000; nowMs = clock.next().value) {
      if (chunks.length > 0) playback.addAudio(chunks.shift()!);
      if (chunks.length === 0) playback.endReply();
      const events = twilio.advance(nowMs);
      for (const piece of events.played) played.push(...piece.bytes);
      for (const name of events.marks) {
        echoed.push(name);
        const result = playback.onMark(name);
        if (result.kind === "played-out") report = result.report;
      }
      deliver(twilio, playback.tick(nowMs), nowMs);
      maxBufferedMs = Math.max(maxBufferedMs, twilio.bufferedMs(nowMs));
    }
    expect(twilio.gaps).toEqual([]);
    expect(playback.underruns).toBe(0);
    expect(maxBufferedMs).toBeLessThanOrEqual(100);
    expect(played).toEqual([...reply]);
    expect(echoed.every((name) => name.startsWith("g0:t0:f"))).toBe(true);
    expect(echoed.at(-1)).toBe("g0:t0:f150");
    expect(report).toMatchObject({ turnIndex: 0, replyMs: 3000, sentMs: 3000, heardMs: 3000 });
  });

  it("after the first burst, releases two frames every 40 ms when asked to, with no gap under a jittery timer", () => {
    const playback = new Playback({ leadMs: 100, framesPerRelease: 2, markEveryFrames: 10 });
    playback.startReply(0);
    playback.addAudio(audio(1000));
    expect(playback.tick(1000).filter((output) => output.kind === "media")).toHaveLength(5);
    expect(playback.nextTickMs()).toBe(1040);
    expect(playback.tick(1040).filter((output) => output.kind === "media")).toHaveLength(2);
    expect(playback.bufferedMs(1040)).toBe(100);

    const jittery = new Playback({ leadMs: 100, framesPerRelease: 2, markEveryFrames: 10 });
    const twilio = new PlaybackBuffer();
    const reply = audio(2000);
    jittery.startReply(0);
    jittery.addAudio(reply);
    jittery.endReply();
    const played: number[] = [];
    let ticks = 0;
    let nowMs = 0;
    while (nowMs < 4000) {
      for (const piece of twilio.advance(nowMs).played) played.push(...piece.bytes);
      deliver(twilio, jittery.tick(nowMs), nowMs);
      ticks++;
      const nextMs = jittery.nextTickMs();
      if (nextMs === null) break;
      nowMs = Math.max(nowMs, nextMs) + (ticks % 7) * 2; // up to 12 ms late
    }
    for (const piece of twilio.advance(nowMs + 1000).played) played.push(...piece.bytes);
    expect(twilio.gaps).toEqual([]);
    expect(jittery.underruns).toBe(0);
    expect(played).toEqual([...reply]);
    expect(ticks).toBeLessThan(60); // 2 s in 40 ms steps, not 100 ticks of 20 ms
  });

  it("never waits so long between releases that Twilio's buffer could run dry", () => {
    const playback = new Playback({ leadMs: 40, framesPerRelease: 4 });
    playback.startReply(0);
    playback.addAudio(audio(400));
    playback.tick(0);
    expect(playback.nextTickMs()).toBe(20); // capped to one frame: the lead holds two
  });

  it("holds a reply while the caller speaks over it, then carries on from where the caller stopped", () => {
    const playback = new Playback({ leadMs: 100, framesPerRelease: 2, markEveryFrames: 10 });
    const twilio = new PlaybackBuffer();
    const reply = audio(1000);
    playback.startReply(4);
    playback.addAudio(reply);
    playback.endReply();
    const played: number[] = [];
    const echoed: string[] = [];
    let report = null;
    const play = (events: { played: { bytes: Uint8Array }[]; marks: string[] }) => {
      for (const piece of events.played) played.push(...piece.bytes);
      for (const name of events.marks) {
        echoed.push(name);
        const result = playback.onMark(name);
        if (result.kind === "played-out") report = result.report;
      }
    };
    const run = (fromMs: number, toMs: number) => {
      for (let nowMs = fromMs; nowMs < toMs; nowMs += 5) {
        play(twilio.advance(nowMs));
        if ((playback.nextTickMs() ?? Number.POSITIVE_INFINITY) <= nowMs)
          deliver(twilio, playback.tick(nowMs), nowMs);
      }
    };
    deliver(twilio, playback.tick(0), 0);
    run(5, 333);
    // The caller starts talking at 333 ms: everything of ours at Twilio goes, the generation moves on.
    play(twilio.advance(333));
    const heardAtHold = played.length;
    expect(playback.hold(333)).toEqual({ clear: true });
    play(twilio.clear(333));
    expect(playback.isPlaying(400)).toBe(true);
    expect(playback.tick(400)).toEqual([]);
    expect(playback.nextTickMs()).toBeNull();
    expect(playback.hold(410)).toEqual({ clear: false }); // already held
    // It was "mm-hm": the reply carries on from the last whole frame the caller heard.
    playback.resume();
    run(600, 2000);
    const resumedAt = Math.floor(heardAtHold / 160) * 160;
    expect(played.slice(0, heardAtHold)).toEqual([...reply.subarray(0, heardAtHold)]);
    expect(played.slice(heardAtHold)).toEqual([...reply.subarray(resumedAt)]);
    expect(echoed.filter((name) => name.startsWith("g0:")).length).toBeGreaterThan(0);
    expect(echoed.at(-1)).toBe("g1:t4:f50");
    expect(report).toMatchObject({ turnIndex: 4, replyMs: 1000, heardMs: 1000, interrupted: false });
  });

  it("reports what was heard before a hold when the speech turns out to be a barge-in", () => {
    const playback = new Playback({ leadMs: 100 });
    playback.startReply(2);
    playback.addText("One two three four.");
    playback.addAudio(audio(800));
    playback.tick(0); // 100 ms at Twilio, playing from 0 ms
    expect(playback.hold(70)).toEqual({ clear: true });
    const { reports, clear } = playback.interrupt(500);
    expect(clear).toBe(false); // Twilio was cleared by the hold
    expect(reports).toEqual([
      expect.objectContaining({ turnIndex: 2, heardMs: 70, heardText: "", interrupted: true }),
    ]);
    expect(playback.held).toBe(false);
    expect(playback.hasReply()).toBe(false);
  });

  it("sends a short last frame, then the final mark", () => {
    const playback = new Playback({ leadMs: 100 });
    playback.startReply(3);
    playback.addAudio(audio(50));
    playback.endReply();
    const outputs = playback.tick(0);
    expect(outputs.map((output) => (output.kind === "media" ? output.mulaw.length : output.name))).toEqual([
      160,
      160,
      80,
      "g0:t3:f3",
    ]);
    expect(playback.nextTickMs()).toBeNull();
    expect(playback.onMark("g0:t3:f3")).toMatchObject({ kind: "played-out", report: { heardMs: 50 } });
    expect(playback.hasReply()).toBe(false);
  });

  it("waits for a whole frame while the model is slower than real time, without counting underruns", () => {
    const playback = new Playback({ leadMs: 60 });
    playback.startReply(0);
    playback.addAudio(audio(10));
    expect(playback.tick(0)).toEqual([]);
    expect(playback.nextTickMs()).toBeNull();
    playback.addAudio(audio(30));
    expect(playback.tick(5).filter((output) => output.kind === "media")).toHaveLength(2);
    playback.addAudio(audio(20));
    expect(playback.tick(200)).toHaveLength(1);
    expect(playback.underruns).toBe(0);
  });

  it("counts an underrun when the timer fires later than the lead allows", () => {
    const playback = new Playback({ leadMs: 60 });
    playback.startReply(0);
    playback.addAudio(audio(400));
    playback.tick(0);
    playback.tick(200);
    expect(playback.underruns).toBe(1);
  });

  it("queues a second reply after the first one", () => {
    const playback = new Playback({ leadMs: 40 });
    playback.startReply(1);
    playback.addAudio(audio(40));
    playback.startReply(2);
    playback.addAudio(audio(20));
    playback.endReply();
    const names = [0, 20, 40, 60].flatMap((nowMs) =>
      playback.tick(nowMs).flatMap((output) => (output.kind === "mark" ? [output.name] : [])),
    );
    expect(names).toEqual(["g0:t1:f2", "g0:t2:f1"]);
    expect(playback.onMark("g0:t1:f2").kind).toBe("played-out");
    expect(playback.onMark("g0:t2:f1")).toMatchObject({ kind: "played-out", report: { turnIndex: 2 } });
  });
});

describe("Playback interruption", () => {
  it("reports the heard portion, and marks echoed by the clear are stale", () => {
    const playback = new Playback({ leadMs: 100, markEveryFrames: 5 });
    const twilio = new PlaybackBuffer();
    playback.startReply(4);
    playback.addText("Hello there, thanks for calling.");
    playback.addAudio(audio(1000));
    playback.addText("How can I help you today with your order?");
    playback.addAudio(audio(1000));
    playback.endReply();
    let nowMs = 0;
    for (; nowMs <= 1500; nowMs += 20) {
      for (const name of twilio.advance(nowMs).marks) expect(playback.onMark(name).kind).toBe("progress");
      deliver(twilio, playback.tick(nowMs), nowMs);
    }
    // The caller has heard about 1500 ms: the first sentence and half of the second.
    const cut = playback.interrupt(1500);
    expect(cut.clear).toBe(true);
    expect(cut.reports).toHaveLength(1);
    const report = cut.reports[0]!;
    expect(report).toMatchObject({ turnIndex: 4, replyMs: 2000, interrupted: true });
    expect(report.heardMs).toBe(1500);
    expect(report.sentMs).toBe(1600);
    expect(report.heardText).toBe("Hello there, thanks for calling. How can I help");
    expect(report.text).toBe("Hello there, thanks for calling. How can I help you today with your order?");
    expect(playback.generation).toBe(1);

    // Twilio's clear echoes every pending mark; none of them counts for the next reply.
    const echoes = twilio.clear(1500).marks;
    expect(echoes.length).toBeGreaterThan(0);
    playback.startReply(5);
    playback.addAudio(audio(200));
    playback.endReply();
    for (const name of echoes) expect(playback.onMark(name)).toEqual({ kind: "stale" });
    const outputs = playback.tick(1520);
    expect(outputs[0]).toMatchObject({ kind: "media" });
    expect(outputs.find((output) => output.kind === "mark")).toEqual({ kind: "mark", name: "g1:t5:f5" });
    expect(playback.onMark("g1:t5:f5")).toEqual({ kind: "progress", turnIndex: 5, confirmedMs: 100 });
  });

  it("needs no clear when nothing was sent, and drops audio added after the cut", () => {
    const playback = new Playback({ leadMs: 100 });
    playback.startReply(0);
    const cut = playback.interrupt(0);
    expect(cut).toMatchObject({ clear: false, reports: [{ heardMs: 0, heardText: "" }] });
    playback.addAudio(audio(100));
    expect(playback.tick(10)).toEqual([]);
    expect(playback.isPlaying(10)).toBe(false);
  });

  it("never reports less than the marks confirmed", () => {
    const playback = new Playback({ leadMs: 100, markEveryFrames: 1 });
    playback.startReply(0);
    playback.addAudio(audio(1000));
    for (let nowMs = 0; nowMs <= 200; nowMs += 20) playback.tick(nowMs);
    // Marks confirm 200 ms even though the clock says only 120 ms had played by 120 ms.
    playback.onMark("g0:t0:f10");
    expect(playback.interrupt(120).reports[0]?.heardMs).toBe(200);
  });
});

/**
 * What the caller hears around a session switch, from the phone's side: the agent audio frames the phone
 * received are laid out as Twilio plays them (each after whatever is queued, or at once), giving the
 * intervals of continuous sound. A switch that happens while sound plays must not break it: the heard
 * gap at a switch is the longest silence that interrupts sound within `windowMs` after it (silences
 * longer than `pauseMs` are the pauses between turns, not gaps). Pure; used by bench/session-switch.ts
 * and usable by the full-stack benchmark.
 */

export interface ReceivedFrame {
  /** When the frame reached the phone (epoch ms, same clock as the switch times). */
  receivedMs: number;
  bytes: number;
}

export interface SoundInterval {
  startMs: number;
  endMs: number;
}

export interface SwitchHearing {
  /** Whether the caller was hearing the agent at the switch. */
  playing: boolean;
  /** Longest silence inside the agent's speech within the window after the switch (0: continuous). */
  gapMs: number;
}

const MULAW_BYTES_PER_MS = 8;

/** The intervals of continuous sound, as Twilio's buffer plays the frames (no `clear` in between). */
export function soundTimeline(frames: readonly ReceivedFrame[]): SoundInterval[] {
  const intervals: SoundInterval[] = [];
  let queueEndMs = Number.NEGATIVE_INFINITY;
  for (const frame of [...frames].sort((a, b) => a.receivedMs - b.receivedMs)) {
    const startMs = Math.max(frame.receivedMs, queueEndMs);
    const endMs = startMs + frame.bytes / MULAW_BYTES_PER_MS;
    const last = intervals.at(-1);
    if (last && startMs <= last.endMs + 0.5) last.endMs = endMs;
    else intervals.push({ startMs, endMs });
    queueEndMs = endMs;
  }
  return intervals;
}

export function hearingAtSwitch(
  timeline: readonly SoundInterval[],
  switchMs: number,
  options: { windowMs?: number; pauseMs?: number } = {},
): SwitchHearing {
  const windowMs = options.windowMs ?? 2000;
  const pauseMs = options.pauseMs ?? 1000;
  const playing = timeline.some((interval) => interval.startMs <= switchMs && switchMs < interval.endMs);
  let gapMs = 0;
  for (let i = 1; i < timeline.length; i++) {
    const gapStartMs = timeline[i - 1]!.endMs;
    const gap = timeline[i]!.startMs - gapStartMs;
    if (gapStartMs < switchMs - 100 || gapStartMs > switchMs + windowMs || gap >= pauseMs) continue;
    gapMs = Math.max(gapMs, gap);
  }
  return { playing, gapMs };
}

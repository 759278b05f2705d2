/**
 * CPU and memory of the stack's processes over the measured window: CPU time from /proc at the start and
 * the end, RSS sampled every second (start, peak, end), the whole machine's busy share, and this
 * process's own CPU and event-loop delay (it runs every phone: its lag shows up as latency).
 */
import { loadavg } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { type Summary, summarise } from "./percentiles.ts";
import { cpuDeltaMs, machineCpu, type ProcessUsage, processTree, processUsage } from "./process-cpu.ts";

export interface WatchedProcess {
  name: string;
  pid: number;
  /** Count the process's descendants too (e.g. workerd under wrangler). */
  tree: boolean;
  /** Which processes of the tree count (by executable name). */
  include?: (comm: string) => boolean;
}

export interface ProcessFigures {
  name: string;
  processes: string[];
  /** A process present at the start had gone by the end: something restarted (e.g. workerd). */
  restarted: boolean;
  cpuMs: number;
  startRssBytes: number;
  peakRssBytes: number;
  endRssBytes: number;
}

export interface ResourceFigures {
  windowMs: number;
  processes: ProcessFigures[];
  machine: { cores: number; busyPercent: number; loadBefore: number[]; loadAfter: number[] };
  eventLoopDelayMs: Summary & { samples: number };
}

function usagesOf(watched: WatchedProcess): ProcessUsage[] {
  const all = watched.tree ? processTree(watched.pid) : [processUsage(watched.pid)].filter((u) => u !== null);
  return watched.include ? all.filter((usage) => watched.include?.(usage.comm)) : all;
}

/** Some process present at the start is gone at the end (children that come and go do not count). */
function lostProcess(start: readonly ProcessUsage[], end: readonly ProcessUsage[]): boolean {
  const alive = new Set(end.map((usage) => usage.pid));
  return start.some((usage) => !alive.has(usage.pid));
}

function rssOf(usages: readonly ProcessUsage[]): number {
  return usages.reduce((total, usage) => total + usage.rssBytes, 0);
}

/** The loop-delay histogram records the whole timer interval: the delay is what exceeds it. */
const LOOP_RESOLUTION_MS = 5;

export class ResourceMonitor {
  readonly #watched: WatchedProcess[];
  readonly #loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  #startUsages: ProcessUsage[][] = [];
  #startRss: number[] = [];
  #peakRss: number[] = [];
  #startMachine = machineCpu();
  #startMs = 0;
  #loadBefore: number[] = [];
  #timer: NodeJS.Timeout | null = null;

  constructor(watched: WatchedProcess[]) {
    this.#watched = watched;
  }

  start(): void {
    this.#loadBefore = loadavg();
    this.#startUsages = this.#watched.map((watched) => usagesOf(watched));
    this.#startRss = this.#startUsages.map((usages) => rssOf(usages));
    this.#peakRss = [...this.#startRss];
    this.#startMachine = machineCpu();
    this.#startMs = performance.now();
    this.#loopDelay.reset();
    this.#loopDelay.enable();
    this.#timer = setInterval(() => this.#sampleRss(), 1000);
  }

  #sampleRss(): void {
    this.#watched.forEach((watched, index) => {
      this.#peakRss[index] = Math.max(this.#peakRss[index] ?? 0, rssOf(usagesOf(watched)));
    });
  }

  stop(): ResourceFigures {
    if (this.#timer) clearInterval(this.#timer);
    this.#loopDelay.disable();
    const windowMs = performance.now() - this.#startMs;
    const machine = machineCpu();
    const processes = this.#watched.map((watched, index): ProcessFigures => {
      const end = usagesOf(watched);
      const endRss = rssOf(end);
      return {
        name: watched.name,
        processes: [...new Set(end.map((usage) => usage.comm))],
        restarted: lostProcess(this.#startUsages[index] ?? [], end),
        cpuMs: cpuDeltaMs(this.#startUsages[index] ?? [], end),
        startRssBytes: this.#startRss[index] ?? 0,
        peakRssBytes: Math.max(this.#peakRss[index] ?? 0, endRss),
        endRssBytes: endRss,
      };
    });
    const busyMs = machine.busyMs - this.#startMachine.busyMs;
    const totalMs = machine.totalMs - this.#startMachine.totalMs;
    const delay = this.#loopDelay;
    const toMs = (ns: number) => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
    const percentiles = (p: number) => toMs(delay.percentile(p));
    return {
      windowMs,
      processes,
      machine: {
        cores: machine.cores,
        busyPercent: totalMs > 0 ? (100 * busyMs) / totalMs : Number.NaN,
        loadBefore: this.#loadBefore,
        loadAfter: loadavg(),
      },
      eventLoopDelayMs: {
        ...summarise([]),
        count: delay.count,
        samples: delay.count,
        p50: percentiles(50),
        p95: percentiles(95),
        p99: percentiles(99),
        max: toMs(delay.max),
        mean: Number.isFinite(delay.mean) ? toMs(delay.mean) : Number.NaN,
      },
    };
  }
}

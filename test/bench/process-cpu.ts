/**
 * CPU time and memory of processes on this machine, read from /proc: utime+stime of /proc/<pid>/stat
 * (clock ticks → ms), VmRSS of /proc/<pid>/status, a process with all its descendants (e.g. the workerd
 * processes under `wrangler dev`), and the whole machine's busy time from /proc/stat. Linux only.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

export interface ProcessUsage {
  pid: number;
  ppid: number;
  /** Executable name as the kernel reports it (at most 15 characters). */
  comm: string;
  /** User + system CPU time since the process started. */
  cpuMs: number;
  rssBytes: number;
}

function clockTicksPerSecond(): number {
  const answer = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const ticks = Number(answer.stdout?.trim());
  return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
}

const MS_PER_TICK = 1000 / clockTicksPerSecond();

function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/**
 * Parses /proc/<pid>/stat: the command name sits in parentheses and may hold spaces or parentheses, so
 * the fields are counted from the last ")". Fields 4 (ppid), 14 (utime) and 15 (stime), 1-based.
 */
export function parseProcStat(text: string): { ppid: number; comm: string; cpuTicks: number } {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state).
  const ppid = Number(rest[1]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (![ppid, utime, stime].every(Number.isFinite)) throw new Error(`bad /proc/<pid>/stat fields: ${text}`);
  return { ppid, comm: text.slice(open + 1, close), cpuTicks: utime + stime };
}

function rssBytesOf(pid: number): number {
  const status = readText(`/proc/${pid}/status`);
  const match = status ? /^VmRSS:\s+(\d+)\s+kB/m.exec(status) : null;
  return match ? Number(match[1]) * 1024 : 0;
}

/** One process's usage, or null if it has gone. */
export function processUsage(pid: number): ProcessUsage | null {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === null) return null;
  const { ppid, comm, cpuTicks } = parseProcStat(stat);
  return { pid, ppid, comm, cpuMs: cpuTicks * MS_PER_TICK, rssBytes: rssBytesOf(pid) };
}

/** A process and every process below it, root first. */
export function processTree(rootPid: number): ProcessUsage[] {
  const all: ProcessUsage[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const usage = processUsage(Number(entry));
    if (usage) all.push(usage);
  }
  const children = new Map<number, ProcessUsage[]>();
  for (const usage of all) {
    const list = children.get(usage.ppid) ?? [];
    list.push(usage);
    children.set(usage.ppid, list);
  }
  const root = all.find((usage) => usage.pid === rootPid);
  if (!root) return [];
  const tree: ProcessUsage[] = [root];
  for (let index = 0; index < tree.length; index++) {
    tree.push(...(children.get(tree[index]!.pid) ?? []));
  }
  return tree;
}

/** The whole machine since boot: time the CPUs were busy and in total, summed over all cores. */
export function machineCpu(): { busyMs: number; totalMs: number; cores: number } {
  const text = readText("/proc/stat") ?? "";
  const lines = text.split("\n");
  const fields = (lines[0] ?? "").trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const total = fields.slice(0, 8).reduce((sum, value) => sum + (Number.isFinite(value) ? value : 0), 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  const cores = lines.filter((line) => /^cpu\d+\s/.test(line)).length;
  return { busyMs: (total - idle) * MS_PER_TICK, totalMs: total * MS_PER_TICK, cores };
}

/** CPU used by a set of processes between two readings (processes born in between count from zero). */
export function cpuDeltaMs(before: readonly ProcessUsage[], after: readonly ProcessUsage[]): number {
  const start = new Map(before.map((usage) => [usage.pid, usage.cpuMs]));
  return after.reduce((sum, usage) => sum + usage.cpuMs - (start.get(usage.pid) ?? 0), 0);
}

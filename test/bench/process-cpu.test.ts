import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { cpuDeltaMs, machineCpu, parseProcStat, processTree, processUsage } from "./process-cpu.ts";

describe("reading /proc", () => {
  it("parses a stat line whose command name holds spaces and parentheses", () => {
    const fields = Array.from({ length: 50 }, (_, index) => String(index + 3));
    fields[1] = "4242"; // field 4: ppid
    fields[11] = "150"; // field 14: utime
    fields[12] = "25"; // field 15: stime
    const parsed = parseProcStat(`1234 (my (odd) name) ${fields.join(" ")}`);
    expect(parsed).toEqual({ ppid: 4242, comm: "my (odd) name", cpuTicks: 175 });
    expect(() => parseProcStat("garbage")).toThrow();
  });

  it("reads this process, and sees its CPU time grow while it works", () => {
    const before = processUsage(process.pid);
    expect(before?.comm.length).toBeGreaterThan(0);
    expect(before?.rssBytes).toBeGreaterThan(1_000_000);
    let spin = 0;
    const until = performance.now() + 120;
    while (performance.now() < until) spin += Math.sqrt(spin + 1);
    const after = processUsage(process.pid);
    expect(before && after && cpuDeltaMs([before], [after])).toBeGreaterThan(0);
    expect(spin).toBeGreaterThan(0);
  });

  it("finds a child below its parent", async () => {
    const child = spawn("sleep", ["5"]);
    try {
      await new Promise((resolve) => child.once("spawn", resolve));
      const tree = processTree(process.pid);
      expect(tree[0]?.pid).toBe(process.pid);
      expect(tree.some((usage) => usage.pid === child.pid && usage.comm === "sleep")).toBe(true);
      expect(processTree(2 ** 22 + 7)).toEqual([]);
    } finally {
      child.kill();
    }
  });

  it("counts a process born between two readings from zero", () => {
    const usage = { pid: 1, ppid: 0, comm: "a", cpuMs: 40, rssBytes: 0 };
    const born = { pid: 2, ppid: 1, comm: "b", cpuMs: 30, rssBytes: 0 };
    expect(cpuDeltaMs([usage], [{ ...usage, cpuMs: 100 }, born])).toBe(90);
  });

  it("reads the machine's busy and total time", () => {
    const cpu = machineCpu();
    expect(cpu.cores).toBeGreaterThan(0);
    expect(cpu.totalMs).toBeGreaterThan(cpu.busyMs);
  });
});

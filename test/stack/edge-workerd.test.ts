/**
 * The edge straight in workerd (edge-workerd.ts) as the local stack runs it: its own child process that
 * bundles the Worker, says when it serves, answers on the Worker's own socket with the stack's vars over
 * wrangler.toml's, forwards the Worker's logs, keeps Durable Object state (SQLite) under --persist-to, and
 * takes its workerd with it when its parent's IPC channel closes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processTree } from "../bench/process-cpu.ts";
import { parseVarArgs } from "./edge-workerd.ts";
import { DEV_DEFAULTS, freePort } from "./local-stack.ts";

const SCRIPT = fileURLToPath(new URL("./edge-workerd.ts", import.meta.url));

describe("--var arguments", () => {
  it("split at the first colon, so values may hold colons", () => {
    expect(parseVarArgs(["PUBLIC_BASE_URL:http://127.0.0.1:9000", "EMPTY:"])).toEqual({
      PUBLIC_BASE_URL: "http://127.0.0.1:9000",
      EMPTY: "",
    });
  });

  it("refuse a pair without a name", () => {
    expect(() => parseVarArgs([":value"])).toThrow(/KEY:VALUE/);
    expect(() => parseVarArgs(["NO_COLON"])).toThrow(/NO_COLON/);
  });
});

/** Collects a stream's lines; `waitFor` resolves with the first line that matches. */
function lines(stream: NodeJS.ReadableStream | null) {
  const seen: string[] = [];
  const waiters = new Set<{ test: (line: string) => boolean; resolve: (line: string) => void }>();
  if (stream) {
    createInterface({ input: stream }).on("line", (line) => {
      seen.push(line);
      for (const waiter of waiters) {
        if (!waiter.test(line)) continue;
        waiters.delete(waiter);
        waiter.resolve(line);
      }
    });
  }
  return {
    seen,
    waitFor: (test: (line: string) => boolean) =>
      new Promise<string>((resolve) => {
        const found = seen.find(test);
        if (found !== undefined) resolve(found);
        else waiters.add({ test, resolve });
      }),
  };
}

describe("the workerd edge process", () => {
  const workDir = mkdtempSync(join(tmpdir(), "edge-workerd-test-"));
  let child: ChildProcess;
  let stdout: ReturnType<typeof lines>;
  let stderr: ReturnType<typeof lines>;
  let ready: { ready: boolean; url: string; worker: string };

  beforeAll(async () => {
    const port = await freePort();
    child = spawn(
      process.execPath,
      [
        SCRIPT,
        "--port",
        String(port),
        "--persist-to",
        join(workDir, "state"),
        "--bundle-dir",
        join(workDir, "bundle"),
        "--var",
        `PUBLIC_BASE_URL:http://127.0.0.1:${port}`,
        "--var",
        `BRIDGES:${JSON.stringify([{ id: "b-test", url: "http://127.0.0.1:1", region: "test-region-1" }])}`,
        "--var",
        "BRIDGE_REGION:test-region-1",
      ],
      { stdio: ["ignore", "pipe", "pipe", "ipc"] },
    );
    stdout = lines(child.stdout);
    stderr = lines(child.stderr);
    const exited = new Promise<never>((_, reject) =>
      child.once("exit", (code) => reject(new Error(`exited (${code}): ${stderr.seen.join("\n")}`))),
    );
    const line = await Promise.race([stdout.waitFor((l) => l.startsWith('{"ready"')), exited]);
    ready = JSON.parse(line);
  }, 60_000);

  afterAll(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
    rmSync(workDir, { recursive: true, force: true });
  });

  it("says where it serves, and serves there with the given vars over wrangler.toml's", async () => {
    expect(ready).toMatchObject({ ready: true, worker: "nova-phone-edge" });
    const health = await fetch(`${ready.url}/healthz`).then((response) => response.json());
    expect(health).toEqual({ ok: true, region: "test-region-1", bridges: 1 });
  });

  it("forwards the Worker's warnings to stderr and keeps Durable Object state under --persist-to", async () => {
    const refused = await fetch(`${ready.url}/voice`, { method: "POST", body: "CallSid=CA1" });
    expect(refused.status).toBe(403);
    const warning = await stderr.waitFor((line) => line.includes('"request refused"'));
    expect(JSON.parse(warning)).toMatchObject({ level: "warn", code: "bad_signature", route: "/voice" });

    // The refusal is counted in the call directory (a SQLite Durable Object), after the response; the
    // admin token is wrangler.toml's dev-only one (not given as --var).
    let rejected: unknown;
    for (let attempt = 0; attempt < 50 && !rejected; attempt++) {
      const listing = await fetch(`${ready.url}/calls`, {
        headers: { authorization: `Bearer ${DEV_DEFAULTS.ADMIN_TOKEN}` },
      }).then((response) => response.json() as Promise<{ rejected: Record<string, number> }>);
      rejected = listing.rejected.bad_signature;
      if (!rejected) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(rejected).toBe(1);
    const objects = readdirSync(join(workDir, "state/v3/do"), { recursive: true }).map(String);
    expect(objects.some((file) => /CallDirectory.*\.sqlite$/.test(file))).toBe(true);
  });

  it("stops its workerd when the parent's channel closes", async () => {
    const workerd = processTree(child.pid ?? -1).filter((usage) => usage.comm === "workerd");
    expect(workerd).toHaveLength(1);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.disconnect();
    expect(await exited).toBe(0);
    const alive = workerd.filter((usage) => processTree(usage.pid).length > 0);
    expect(alive).toEqual([]);
  });
});

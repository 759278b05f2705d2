/**
 * SIGTERM with calls in progress, on a real bridge process (`node bridge/main.ts`) against the Nova Sonic
 * simulator: the bridge says it is draining (health 503) and refuses new calls, a call that ends during
 * the drain ends normally, the call still going when the drain time is up is handed over with DRAINING
 * (the edge resumes it elsewhere) after its model session was closed in protocol order, and the process
 * exits 0.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NovaSimulator, startNovaSimulator } from "../bridge/simulator/server.ts";
import {
  BRIDGE_PROTOCOL_HEADER,
  BRIDGE_PROTOCOL_VERSION,
  BridgeCloseCode,
  bridgeMediaPath,
  parseBridgeHealth,
} from "../shared/bridge-protocol.ts";
import { Logger } from "../shared/log.ts";
import { BridgePhone, bridgeToken, newCallSid } from "./bridge-phone.ts";
import { tryUpgrade } from "./bridge-requests.ts";
import { freePort } from "./stack/local-stack.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SECRET = "drain-test-bridge-secret-0123456789";
const CREDENTIALS = { accessKeyId: "AKIDDRAINTEST", secretAccessKey: "drain-test-aws-secret" };
const DRAIN_MS = 3000;

let simulator: NovaSimulator;
let child: ChildProcess | null = null;
beforeAll(async () => {
  simulator = await startNovaSimulator({
    credentials: CREDENTIALS,
    region: "us-east-1",
    modelLatency: { medianMs: 20, p95Ms: 40 },
    seed: 3,
    logger: new Logger({}, { level: "error" }),
  });
});
afterAll(async () => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  await simulator?.close();
});

describe("SIGTERM", () => {
  it("drains: no new calls, calls in progress finish or are handed over, exit 0", async () => {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    let output = "";
    child = spawn(process.execPath, ["bridge/main.ts"], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        BRIDGE_SECRET: SECRET,
        BRIDGE_REGION: "us-east-1",
        BRIDGE_HOST: "127.0.0.1",
        BRIDGE_PORT: String(port),
        BRIDGE_DRAIN_MS: String(DRAIN_MS),
        LOG_LEVEL: "info",
        AWS_ENDPOINT_URL_BEDROCK_RUNTIME: simulator.url,
        AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const running = child;
    for (const stream of [running.stdout, running.stderr]) {
      stream?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
    }
    const exited = new Promise<number | null>((resolve) => running.once("exit", (code) => resolve(code)));
    const deadline = Date.now() + 20_000;
    while (!output.includes("listening on")) {
      if (Date.now() > deadline || running.exitCode !== null)
        throw new Error(`bridge did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const leaving = await BridgePhone.connect({ baseUrl, secret: SECRET });
    const staying = await BridgePhone.connect({ baseUrl, secret: SECRET });
    leaving.start();
    staying.start();
    for (const phone of [leaving, staying]) {
      await phone.waitFor(() => phone.controlsOf("turn").length === 1, 15_000, "the greeting");
    }

    running.kill("SIGTERM");
    let health = await fetch(`${baseUrl}/healthz`);
    while (health.status === 200) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      health = await fetch(`${baseUrl}/healthz`);
    }
    expect(health.status).toBe(503);
    expect(parseBridgeHealth(await health.text())).toMatchObject({ status: "draining", activeCalls: 2 });
    const newcomer = newCallSid();
    const refused = await tryUpgrade(baseUrl, bridgeMediaPath(newcomer), {
      authorization: `Bearer ${await bridgeToken(SECRET, newcomer)}`,
      [BRIDGE_PROTOCOL_HEADER]: String(BRIDGE_PROTOCOL_VERSION),
    });
    expect(refused.status).toBe(503);

    // One caller hangs up during the drain; the other is still talking when it is over.
    expect(await leaving.hangUp()).toBe(1000);
    expect(await staying.closed).toBe(BridgeCloseCode.DRAINING);
    expect(staying.controlsOf("hangup")).toEqual([]);
    expect(await exited).toBe(0);
    expect(output).toContain("SIGTERM: closing the bridge");
    expect(output).toContain("drained: 1 call(s) finished, 1 handed over");
    for (const record of simulator.sessions.list()) {
      expect(record.endReason).toBe("session_end");
      expect(record.received.slice(-3)).toEqual(["contentEnd", "promptEnd", "sessionEnd"]);
    }
  }, 40_000);
});

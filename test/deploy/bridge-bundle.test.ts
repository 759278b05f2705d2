/**
 * The container without a container engine: builds dist/bridge/ with `npm run build:bridge`'s command,
 * lays it out as bridge/Dockerfile's runtime stage does (a directory with no node_modules anywhere above
 * it), and starts it with the image's ENTRYPOINT, the image's ENV overlaid with the ECS task definition's
 * environment and secrets, and the image's HEALTHCHECK command as the probe. Then a real call through the
 * bundled bridge (AWS SDK over HTTP/2 to the Nova Sonic simulator, `ws` to a Twilio-shaped caller), and
 * SIGTERM in the middle of it: after the drain the call is handed over (GOING_AWAY or DRAINING), its model
 * session ended in order, and the process exits 0.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NovaSimulator, startNovaSimulator } from "../../bridge/simulator/server.ts";
import { BridgeCloseCode } from "../../shared/bridge-protocol.ts";
import { Logger } from "../../shared/log.ts";
import { BridgePhone } from "../bridge-phone.ts";
import { freePort } from "../stack/local-stack.ts";
import {
  isSentInContext,
  type RuntimeStage,
  readBuildStage,
  readDockerignore,
  readRuntimeStage,
} from "./dockerfile.ts";
import { containerEnvironment, readTaskDefinition, type TaskDefinition } from "./task-definition.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SECRET = "bundle-test-bridge-secret-0123456789";
const SIM_CREDENTIALS = { accessKeyId: "AKIDBUNDLETEST", secretAccessKey: "bundle-test-aws-secret" };

let stage: RuntimeStage;
let task: TaskDefinition;
let appDir: string;
let simulator: NovaSimulator;

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `node …` from the image, run with this machine's Node 26 binary in the app directory. */
function nodeCommand(command: string[]): string[] {
  expect(command[0]).toBe("node");
  return command.slice(1);
}

function start(env: Record<string, string>): Running {
  const child = spawn(process.execPath, nodeCommand(stage.command), {
    cwd: appDir,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

/** The image's HEALTHCHECK, as Docker runs it: its exit status is the verdict. */
function healthcheck(env: Record<string, string>): number {
  const result = spawnSync(process.execPath, nodeCommand(stage.healthcheck.command), {
    cwd: appDir,
    env,
    encoding: "utf8",
    timeout: 10_000,
  });
  return result.status ?? -1;
}

async function waitHealthy(running: Running, env: Record<string, string>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (running.child.exitCode !== null) throw new Error(`bridge exited early:\n${running.output()}`);
    if (healthcheck(env) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`bridge never became healthy:\n${running.output()}`);
}

async function environment(): Promise<Record<string, string>> {
  return {
    ...stage.env,
    ...containerEnvironment(task, { BRIDGE_SECRET: SECRET }),
    // The only departures from the task definition: a free port, a one-second drain, and the simulator
    // instead of Bedrock (credentials from the environment instead of the task role).
    BRIDGE_PORT: String(await freePort()),
    BRIDGE_DRAIN_MS: "1000",
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: simulator.url,
    AWS_ACCESS_KEY_ID: SIM_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: SIM_CREDENTIALS.secretAccessKey,
  };
}

beforeAll(async () => {
  const scripts: unknown = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts;
  const buildScript =
    typeof scripts === "object" && scripts && "build:bridge" in scripts ? scripts["build:bridge"] : "";
  expect(buildScript).toBe("node bridge/deploy/bundle.ts");
  const build = spawnSync(process.execPath, ["bridge/deploy/bundle.ts"], { cwd: ROOT, encoding: "utf8" });
  expect(build.status, build.stderr).toBe(0);

  stage = readRuntimeStage(join(ROOT, "bridge/Dockerfile"));
  task = readTaskDefinition();
  const [copy] = stage.copiesFromStages;
  expect(stage.copiesFromStages).toHaveLength(1);
  expect(copy?.source).toBe("/src/dist/bridge/");
  appDir = join(mkdtempSync(join(tmpdir(), "nova-bridge-image-")), stage.workdir);
  cpSync(join(ROOT, "dist/bridge"), appDir, { recursive: true });

  simulator = await startNovaSimulator({
    credentials: SIM_CREDENTIALS,
    region: task.env.AWS_REGION,
    modelLatency: { medianMs: 20, p95Ms: 40 },
    seed: 5,
    logger: new Logger({}, { level: "error" }),
  });
}, 60_000);

afterAll(async () => {
  await simulator?.close();
  if (appDir) rmSync(dirname(appDir), { recursive: true, force: true });
});

describe("the bridge bundle, started as the image starts it", () => {
  it("is self-contained: no node_modules next to it or above it, no simulator or tests inside", () => {
    for (let dir = appDir; dir !== dirname(dir); dir = dirname(dir)) {
      expect(existsSync(join(dir, "node_modules")), `${dir}/node_modules`).toBe(false);
    }
    const meta: { inputs: Record<string, unknown> } = JSON.parse(
      readFileSync(join(appDir, "meta.json"), "utf8"),
    );
    const sources = Object.keys(meta.inputs).filter((input) => !input.startsWith("node_modules/"));
    expect(sources).toContain("bridge/main.ts");
    expect(sources).toContain("bridge/deploy/healthcheck.ts");
    expect(sources.filter((input) => /^(bridge\/simulator|test|edge)\//.test(input))).toEqual([]);
    // The image's build stage sees every source the bundle needs, through .dockerignore and its COPY lines.
    const ignore = readDockerignore(join(ROOT, ".dockerignore"));
    const copied = readBuildStage(join(ROOT, "bridge/Dockerfile")).contextCopies;
    for (const source of [...sources, "package.json", "package-lock.json", "bridge/deploy/bundle.ts"]) {
      expect(isSentInContext(source, ignore), `${source} in the build context`).toBe(true);
      expect(
        copied.some((path) => source === path || (path.endsWith("/") && source.startsWith(path))),
        `${source} copied into the build stage`,
      ).toBe(true);
    }
    expect(Object.keys(meta.inputs)).toContain(
      Object.keys(meta.inputs).find((input) =>
        input.startsWith("node_modules/@aws-sdk/client-bedrock-runtime/"),
      ),
    );
  });

  it("becomes healthy, serves a call, and drains it on SIGTERM with exit code 0", async () => {
    const env = await environment();
    expect(healthcheck(env)).toBe(1);
    const bridge = start(env);
    try {
      await waitHealthy(bridge, env);
      const baseUrl = `http://127.0.0.1:${env.BRIDGE_PORT}`;
      const health = await (await fetch(`${baseUrl}/healthz`)).json();
      expect(health).toMatchObject({
        status: "ok",
        bridgeId: task.env.BRIDGE_ID,
        region: task.env.BRIDGE_REGION,
      });

      const caller = await BridgePhone.connect({ baseUrl, secret: SECRET });
      caller.start();
      await caller.waitFor(() => caller.heardMs > 0, 15_000, "the greeting's first audio");
      expect(caller.controlsOf("ready")[0]).toMatchObject({ bridgeId: task.env.BRIDGE_ID });

      bridge.child.kill("SIGTERM");
      // Both codes make the edge hand the call to another bridge.
      expect([BridgeCloseCode.GOING_AWAY, BridgeCloseCode.DRAINING]).toContain(await caller.closed);
      expect(await bridge.exited).toEqual({ code: 0, signal: null });
      expect(bridge.output()).toContain("SIGTERM: closing the bridge");
      const record = simulator.sessions.list().at(-1);
      expect(record?.endReason).toBe("session_end");
      expect(record?.received.slice(-3)).toEqual(["contentEnd", "promptEnd", "sessionEnd"]);
      expect(healthcheck(env)).toBe(1);
    } finally {
      if (bridge.child.exitCode === null) bridge.child.kill("SIGKILL");
    }
  }, 60_000);

  it("refuses to start without its secret, naming it, with exit code 2", async () => {
    const { BRIDGE_SECRET: _omitted, ...env } = await environment();
    const bridge = start(env);
    expect(await bridge.exited).toEqual({ code: 2, signal: null });
    expect(bridge.output()).toContain("BRIDGE_SECRET");
  });
});

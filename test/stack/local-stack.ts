/**
 * The whole stack on this machine, as separate processes: the edge in workerd (under `wrangler dev`, or
 * straight in workerd as in production: edge-workerd.ts), one or more bridges, and the built-in Nova Sonic
 * simulator (unless another endpoint or real Bedrock is chosen). Used by `npm start`, the end-to-end tests
 * and the benchmarks.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync, statfsSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BRIDGE_NODE_FLAGS } from "../../bridge/node-flags.ts";
import { WORKERD_V8_FLAGS_VARIABLE, workerdV8FlagsValue } from "./workerd-v8-flags.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Dev-only values, the same as wrangler.toml's [vars]; the edge refuses them behind https. */
export const DEV_DEFAULTS = {
  TWILIO_AUTH_TOKEN: "dev-only-twilio-auth-token",
  ADMIN_TOKEN: "dev-only-admin-token",
  BRIDGE_SECRET: "dev-only-bridge-secret-0123456789abcdef",
} as const;

/** Credentials the local simulator checks SigV4 signatures against (they are not AWS credentials). */
const SIM_CREDENTIALS = {
  accessKeyId: "AKIALOCALSIMULATOR01",
  secretAccessKey: "local-simulator-secret-key",
};

/**
 * How the edge runs. `wrangler-dev`: `wrangler dev`, which rebuilds and reloads the Worker on source
 * changes but puts a second workerd (its proxy) in front of it, a hop every request and WebSocket message
 * takes. `workerd`: the bundle `wrangler deploy` makes, on the Worker's own socket (edge-workerd.ts).
 */
export type EdgeRuntime = "wrangler-dev" | "workerd";

export const EDGE_RUNTIMES: readonly EdgeRuntime[] = ["wrangler-dev", "workerd"];

export function isEdgeRuntime(value: string): value is EdgeRuntime {
  return (EDGE_RUNTIMES as readonly string[]).includes(value);
}

export type NovaBackend =
  | { kind: "simulator"; port: number; env: Record<string, string> }
  | { kind: "endpoint"; url: string }
  | { kind: "bedrock" };

export interface StackOptions {
  edgePort: number;
  /** Default `wrangler-dev`. */
  edgeRuntime?: EdgeRuntime;
  bridgePorts: number[];
  backend: NovaBackend;
  twilioAuthToken: string;
  adminToken: string;
  bridgeSecret: string;
  region: string;
  /** Extra environment for every bridge (e.g. NOVA_ENDPOINTING, PLAYBACK_LEAD_MS). */
  bridgeEnv?: Record<string, string>;
  logLevel?: string;
  /** Where each process's output goes: one line at a time, tagged with the process name. */
  onOutput?: (name: string, line: string) => void;
}

export interface RunningStack {
  edgeUrl: string;
  bridgeUrls: string[];
  simulatorUrl: string | null;
  processes: ReadonlyMap<string, ChildProcess>;
  /** Stops one process (e.g. a bridge, to test failover). */
  kill(name: string, signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

/** Parses the stack's environment; throws with every problem listed. */
export function stackOptionsFromEnv(env: NodeJS.ProcessEnv): StackOptions {
  const problems: string[] = [];
  const port = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > 65535) {
      problems.push(`${name} must be a TCP port from 1 to 65535 (got "${raw}")`);
      return fallback;
    }
    return value;
  };
  const secret = (name: keyof typeof DEV_DEFAULTS, minChars: number): string => {
    const value = env[name] ?? DEV_DEFAULTS[name];
    if (value.length < minChars) problems.push(`${name} must be at least ${minChars} characters`);
    return value;
  };
  const edgePort = port("EDGE_PORT", 8787);
  const bridgePort = port("BRIDGE_PORT", 8081);
  const simPort = port("SIM_PORT", 8788);
  const region = env.AWS_REGION ?? "us-east-1";
  const edgeRuntime = env.EDGE_RUNTIME || "wrangler-dev";
  if (!isEdgeRuntime(edgeRuntime))
    problems.push(`EDGE_RUNTIME must be ${EDGE_RUNTIMES.join(" or ")} (got "${edgeRuntime}")`);
  let backend: NovaBackend;
  const choice = env.NOVA_BACKEND ?? (env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME ? "endpoint" : "simulator");
  if (choice === "simulator") backend = { kind: "simulator", port: simPort, env: {} };
  else if (choice === "endpoint") {
    const url = env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME ?? "";
    if (!/^https?:\/\/\S+$/.test(url)) {
      problems.push("NOVA_BACKEND=endpoint needs AWS_ENDPOINT_URL_BEDROCK_RUNTIME=http(s)://host:port");
    }
    backend = { kind: "endpoint", url };
  } else if (choice === "bedrock") {
    if (!env.AWS_REGION) problems.push("NOVA_BACKEND=bedrock needs AWS_REGION (the region of the model)");
    backend = { kind: "bedrock" };
  } else {
    problems.push(`NOVA_BACKEND must be simulator, endpoint or bedrock (got "${choice}")`);
    backend = { kind: "simulator", port: simPort, env: {} };
  }
  const options: StackOptions = {
    edgePort,
    edgeRuntime: isEdgeRuntime(edgeRuntime) ? edgeRuntime : "wrangler-dev",
    bridgePorts: [bridgePort],
    backend,
    twilioAuthToken: secret("TWILIO_AUTH_TOKEN", 16),
    adminToken: secret("ADMIN_TOKEN", 16),
    bridgeSecret: secret("BRIDGE_SECRET", 32),
    region,
    logLevel: env.LOG_LEVEL ?? "info",
  };
  const ports = [edgePort, bridgePort, ...(backend.kind === "simulator" ? [simPort] : [])];
  if (new Set(ports).size !== ports.length) problems.push("EDGE_PORT, BRIDGE_PORT and SIM_PORT must differ");
  if (problems.length > 0)
    throw new Error(`the local stack's configuration is invalid:\n - ${problems.join("\n - ")}`);
  return options;
}

/** A port the OS says is free right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitForHealth(
  name: string,
  url: string,
  child: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "no answer";
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
      lastError = `HTTP ${response.status}`;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await sleep(100);
  }
  throw new Error(`${name} was not healthy at ${url} within ${timeoutMs} ms (${lastError})`);
}

/**
 * Waits until the bridge's cached prompts are rendered (GET /metrics): until then a call would hear the
 * model's greeting instead of the cached one. A prompt that failed to render stops the stack.
 */
async function waitForPrompts(
  name: string,
  url: string,
  child: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let states: Record<string, { state?: string; error?: string }> = {};
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${name} exited (${child.exitCode}) while rendering its prompts`);
    const metrics = (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(1000) }).then((response) =>
      response.json(),
    )) as { prompts?: Record<string, { state?: string; error?: string }> };
    states = metrics.prompts ?? {};
    const failed = Object.entries(states).filter(([, prompt]) => prompt.state === "failed");
    if (failed.length > 0) {
      throw new Error(
        `${name} could not render prompts: ${failed.map(([id, p]) => `${id} (${p.error})`).join(", ")}`,
      );
    }
    if (Object.values(states).every((prompt) => prompt.state === "ready")) return;
    await sleep(100);
  }
  throw new Error(`${name}'s prompts were not ready within ${timeoutMs} ms: ${JSON.stringify(states)}`);
}

/** Waits until a TCP port accepts connections (the simulator speaks HTTP/2 only, so no fetch). */
async function waitForPort(
  name: string,
  port: number,
  child: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}) before it was ready`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`${name} did not listen on port ${port} within ${timeoutMs} ms`);
}

function pipeLines(name: string, child: ChildProcess, onOutput: (name: string, line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let pending = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) if (line.trim() !== "") onOutput(name, line);
    });
  }
}

/**
 * Where the stack keeps its scratch state (the edge's Durable Object SQLite files, wrangler's config),
 * deleted when it stops: memory (/dev/shm) when the machine has it. Here one workerd process runs every
 * call's Durable Object on one thread, so a commit that waits for a disk can hold up every call's media;
 * on Cloudflare each object's storage is its own and never stalls the others. (One 100-call run on each
 * looked like a cure, p99 system-added 35-48 ms on disk against 19 ms in memory; later runs in memory
 * gave 36-43 ms too, so the measured gain is unproven: that tail was workerd's garbage collector, see
 * workerd-v8-flags.ts.)
 */
function scratchRoot(): string {
  try {
    accessSync("/dev/shm", constants.W_OK);
    const { bavail, bsize } = statfsSync("/dev/shm");
    if (bavail * bsize >= SCRATCH_MIN_FREE_BYTES) return "/dev/shm";
  } catch {
    // No /dev/shm here (or not ours to write): the system's temporary directory.
  }
  return tmpdir();
}

/** Memory the scratch directory must have free to be used (ample for a 100-call benchmark). */
const SCRATCH_MIN_FREE_BYTES = 256 * 1024 * 1024;

export async function startLocalStack(options: StackOptions): Promise<RunningStack> {
  const onOutput = options.onOutput ?? (() => {});
  const processes = new Map<string, ChildProcess>();
  const workDir = mkdtempSync(join(scratchRoot(), "nova-phone-stack-"));
  const nodeBin = process.execPath;
  const launch = (
    name: string,
    command: string,
    args: string[],
    env: Record<string, string>,
    { ipc = false } = {},
  ): ChildProcess => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      // An IPC channel tells the child when this process is gone, however it went.
      stdio: ["ignore", "pipe", "pipe", ...(ipc ? (["ipc"] as const) : [])],
      detached: true,
    });
    // The channel alone does not keep this process alive.
    child.channel?.unref();
    processes.set(name, child);
    pipeLines(name, child, onOutput);
    return child;
  };

  const stop = async (): Promise<void> => {
    await Promise.all([...processes.keys()].map((name) => kill(name)));
    rmSync(workDir, { recursive: true, force: true });
  };
  const kill = async (name: string, signal: NodeJS.Signals = "SIGTERM"): Promise<void> => {
    const child = processes.get(name);
    if (!child || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    try {
      process.kill(-child.pid, signal);
    } catch {
      return;
    }
    const forced = sleep(5000).then(() => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {}
      }
    });
    await Promise.race([exited, forced]);
    await exited;
  };

  try {
    let simulatorUrl: string | null = null;
    const novaEnv: Record<string, string> = { AWS_REGION: options.region };
    if (options.backend.kind === "simulator") {
      const { port } = options.backend;
      const sim = launch("simulator", nodeBin, ["bridge/simulator/main.ts"], {
        SIM_PORT: String(port),
        SIM_CREDENTIALS: `${SIM_CREDENTIALS.accessKeyId}:${SIM_CREDENTIALS.secretAccessKey}`,
        SIM_REGION: options.region,
        SIM_UTTERANCES: join(ROOT, "test/fixtures/audio/manifest.json"),
        LOG_LEVEL: options.logLevel ?? "info",
        ...options.backend.env,
      });
      await waitForPort("simulator", port, sim, 15_000);
      simulatorUrl = `http://127.0.0.1:${port}`;
      Object.assign(novaEnv, {
        AWS_ENDPOINT_URL_BEDROCK_RUNTIME: simulatorUrl,
        AWS_ACCESS_KEY_ID: SIM_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: SIM_CREDENTIALS.secretAccessKey,
        AWS_SESSION_TOKEN: "",
        AWS_PROFILE: "",
      });
    } else if (options.backend.kind === "endpoint") {
      novaEnv.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = options.backend.url;
    }

    const bridgeUrls: string[] = [];
    const bridges = options.bridgePorts.map((port, index) => {
      const name = `bridge-${index + 1}`;
      const child = launch(name, nodeBin, [...BRIDGE_NODE_FLAGS, "bridge/main.ts"], {
        ...novaEnv,
        BRIDGE_HOST: "127.0.0.1",
        BRIDGE_PORT: String(port),
        BRIDGE_ID: name,
        BRIDGE_REGION: options.region,
        BRIDGE_SECRET: options.bridgeSecret,
        LOG_LEVEL: options.logLevel ?? "info",
        // The fast paths, on as in production: a warm pool of model streams and the cached prompts
        // (rendered once through the model, kept on disk for the stack's life).
        POOL_MAX: "4",
        POOL_MIN: "1",
        PROMPTS: "all",
        PROMPT_CACHE_DIR: join(workDir, `prompts-${index + 1}`),
        // A local stop should not wait the production drain time.
        BRIDGE_DRAIN_MS: "2000",
        ...options.bridgeEnv,
      });
      bridgeUrls.push(`http://127.0.0.1:${port}`);
      return { name, child, url: `http://127.0.0.1:${port}` };
    });

    const edgeUrl = `http://127.0.0.1:${options.edgePort}`;
    const bridgeList = bridges.map((bridge) => ({
      id: bridge.name,
      url: bridge.url,
      region: options.region,
    }));
    const vars: Record<string, string> = {
      PUBLIC_BASE_URL: edgeUrl,
      TWILIO_AUTH_TOKEN: options.twilioAuthToken,
      ADMIN_TOKEN: options.adminToken,
      BRIDGE_SECRET: options.bridgeSecret,
      BRIDGES: JSON.stringify(bridgeList),
      BRIDGE_REGION: options.region,
      LOG_LEVEL: options.logLevel ?? "info",
    };
    const edgeArgs = [
      "--ip",
      "127.0.0.1",
      "--port",
      String(options.edgePort),
      "--persist-to",
      join(workDir, "state"),
      ...Object.entries(vars).flatMap(([key, value]) => ["--var", `${key}:${value}`]),
    ];
    const edgeEnv = {
      WRANGLER_SEND_METRICS: "false",
      XDG_CONFIG_HOME: join(workDir, "config"),
      CI: "true",
      [WORKERD_V8_FLAGS_VARIABLE]: workerdV8FlagsValue(process.env),
    };
    const edge =
      (options.edgeRuntime ?? "wrangler-dev") === "workerd"
        ? launch(
            "edge",
            nodeBin,
            ["test/stack/edge-workerd.ts", ...edgeArgs, "--bundle-dir", join(workDir, "edge-bundle")],
            edgeEnv,
            { ipc: true },
          )
        : launch(
            "edge",
            join(ROOT, "node_modules/.bin/wrangler"),
            [
              "dev",
              ...edgeArgs,
              "--inspector-port",
              String(await freePort()),
              "--show-interactive-dev-session=false",
              "--log-level",
              "warn",
            ],
            edgeEnv,
          );

    await Promise.all(
      bridges.map((bridge) => waitForHealth(bridge.name, `${bridge.url}/healthz`, bridge.child, 20_000)),
    );
    await Promise.all(bridges.map((bridge) => waitForPrompts(bridge.name, bridge.url, bridge.child, 30_000)));
    await waitForHealth("edge", `${edgeUrl}/healthz`, edge, 60_000);
    return { edgeUrl, bridgeUrls, simulatorUrl, processes, kill, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Measures the simulator as a separate process under concurrent calls: its CPU per session (from
 * /_sim/health), the client's CPU (this process: SDK + NovaSession), and the stream set-up time (client
 * open -> request arrival at the simulator) with an optional connection set-up delay.
 *
 *   npx node bridge/simulator/measure.ts [sessions=20] [seconds=8] [connectionSetupMs=0]
 *
 * Each session asks for the greeting as text, then speaks 1 s every 3 s, in real time (20 ms frames).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { feed, openSession, speechAsset, speechFrom, watch } from "../nova/session-harness.ts";
import { simulatorControl } from "./control-client.ts";

const [sessions = 20, seconds = 8, setupMs = 0] = process.argv.slice(2).map(Number);
const main = fileURLToPath(new URL("./main.ts", import.meta.url));
const child = spawn(process.execPath, [main], {
  env: {
    ...process.env,
    SIM_PORT: "0",
    SIM_CREDENTIALS: "AKIDSIMULATOR:simulator-secret",
    SIM_PAUSE_MS: "500",
    SIM_LATENCY_MS: "300/600",
    SIM_CONNECTION_SETUP_MS: String(setupMs),
    LOG_LEVEL: "warn",
  },
  stdio: ["ignore", "pipe", "inherit"],
});
const url = await new Promise<string>((resolve, reject) => {
  child.stdout.on("data", (chunk: Buffer) => {
    const match = /listening on (\S+)/.exec(chunk.toString());
    if (match?.[1]) resolve(match[1]);
  });
  child.once("exit", () => reject(new Error("simulator exited")));
});
const control = simulatorControl(url);
const speech = speechAsset("hours").subarray(0, 16000 * 2);
const before = await control.health();
const clientBefore = process.cpuUsage();
const openedAt = new Map<string, number>();
const firstReplies: number[] = [];

async function call(index: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, index * 25));
  const session = openSession(url);
  openedAt.set(session.promptName, session.timestamps.openedAtMs);
  const watcher = watch(session);
  const turnFrames = 150;
  const audio = feed(session, (frame) => speechFrom(speech, 50)(frame % turnFrames));
  const askedAt = performance.timeOrigin + performance.now();
  session.sendText("The caller has just connected. Greet them.");
  const first = watcher.next((event) => event.kind === "audioOutput");
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  audio.stop();
  await first;
  firstReplies.push((session.timestamps.firstOutputAtMs ?? askedAt) - askedAt);
  await session.close();
}

await Promise.all(Array.from({ length: sessions }, (_, index) => call(index)));
const clientCpu = process.cpuUsage(clientBefore);
const after = await control.health();
const records = await control.sessions();
const simCpuMs =
  (after.cpuMicros.user + after.cpuMicros.system - before.cpuMicros.user - before.cpuMicros.system) / 1000;
const sessionSeconds = sessions * seconds;
const turns = records.flatMap((record) => record.turns);
const median = (values: number[]) =>
  values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const setups = records.flatMap((record) => {
  const opened = openedAt.get(record.promptName ?? "");
  return opened === undefined ? [] : [record.openedAtMs - opened];
});
console.log(
  JSON.stringify(
    {
      sessions,
      secondsEach: seconds,
      connectionSetupMs: setupMs,
      simulatorCpuMsPerSessionSecond: +(simCpuMs / sessionSeconds).toFixed(2),
      simulatorCpuPercentOfCorePerSession: +((simCpuMs / sessionSeconds / 1000) * 100).toFixed(2),
      clientCpuMsPerSessionSecond: +((clientCpu.user + clientCpu.system) / 1000 / sessionSeconds).toFixed(2),
      simulatorRssMb: +(after.rssBytes / 1e6).toFixed(1),
      turns: turns.length,
      interrupted: turns.filter((turn) => turn.outcome === "interrupted").length,
      streamSetupMedianMs: +median(setups).toFixed(1),
      streamSetupMaxMs: +Math.max(...setups).toFixed(1),
      greetingFirstOutputMedianMs: +median(firstReplies).toFixed(1),
    },
    null,
    2,
  ),
);
child.kill("SIGTERM");

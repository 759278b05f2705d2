/**
 * The local stack for end-to-end tests: every port free, the simulator compressed in time (short
 * endpointing pause, short model latency) while audio still flows in real time.
 */
import { DEV_DEFAULTS, freePort, type RunningStack, startLocalStack } from "../stack/local-stack.ts";

export interface TestStack extends RunningStack {
  /** The processes' output so far (shown when a test fails). */
  output(): string;
  authToken: string;
  adminToken: string;
}

export async function startTestStack(options: {
  bridges?: number;
  simEnv?: Record<string, string>;
  bridgeEnv?: Record<string, string>;
}): Promise<TestStack> {
  const lines: string[] = [];
  const bridgePorts: number[] = [];
  for (let i = 0; i < (options.bridges ?? 1); i++) bridgePorts.push(await freePort());
  const stack = await startLocalStack({
    edgePort: await freePort(),
    bridgePorts,
    backend: {
      kind: "simulator",
      port: await freePort(),
      env: { SIM_PAUSE_MS: "600", SIM_LATENCY_MS: "150/300", SIM_SEED: "7", ...options.simEnv },
    },
    twilioAuthToken: DEV_DEFAULTS.TWILIO_AUTH_TOKEN,
    adminToken: DEV_DEFAULTS.ADMIN_TOKEN,
    bridgeSecret: DEV_DEFAULTS.BRIDGE_SECRET,
    region: "us-east-1",
    bridgeEnv: { NOVA_ENDPOINTING: "HIGH", ...options.bridgeEnv },
    logLevel: "info",
    onOutput: (name, line) => {
      lines.push(`[${name}] ${line}`);
      if (lines.length > 4000) lines.splice(0, 1000);
    },
  });
  return {
    ...stack,
    output: () => lines.join("\n"),
    authToken: DEV_DEFAULTS.TWILIO_AUTH_TOKEN,
    adminToken: DEV_DEFAULTS.ADMIN_TOKEN,
  };
}

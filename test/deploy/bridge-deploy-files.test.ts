/**
 * The bridge's deployment files agree with each other and with the bridge: the Dockerfile's runtime
 * stage, the example ECS task definition, and the IAM policies of its two roles. Each check names what
 * would break in a real deployment if it failed.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { CONFIG_VARIABLES, parseBridgeConfig } from "../../bridge/config.ts";
import { BRIDGE_NODE_FLAGS } from "../../bridge/node-flags.ts";
import { parseJsonText, validate } from "../../shared/schema.ts";
import { readBuildStage, readRuntimeStage } from "./dockerfile.ts";
import { containerEnvironment, readTaskDefinition } from "./task-definition.ts";

const path = (relative: string) => fileURLToPath(new URL(`../../${relative}`, import.meta.url));
const task = readTaskDefinition();
const runtime = readRuntimeStage(path("bridge/Dockerfile"));
const config = parseBridgeConfig({
  ...runtime.env,
  ...containerEnvironment(task, { BRIDGE_SECRET: "x".repeat(32) }),
});
const region = task.env.AWS_REGION ?? "";

/** Variables the AWS SDK reads itself (bridge/config.ts leaves them to it). */
const AWS_STANDARD_VARIABLES = ["AWS_REGION", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"];

const statementSchema = v.object({
  Sid: v.optional(v.string()),
  Effect: v.picklist(["Allow", "Deny"]),
  Action: v.union([v.string(), v.array(v.string())]),
  Resource: v.optional(v.union([v.string(), v.array(v.string())])),
  Principal: v.optional(v.record(v.string(), v.string())),
  Condition: v.optional(v.record(v.string(), v.record(v.string(), v.string()))),
});
const policySchema = v.object({ Version: v.literal("2012-10-17"), Statement: v.array(statementSchema) });
type Statement = v.InferOutput<typeof statementSchema>;

function readPolicy(relative: string): Statement[] {
  const text = readFileSync(path(relative), "utf8");
  return validate(policySchema, parseJsonText(text, 20_000, relative), relative, "bad_config").Statement;
}
const list = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

describe("the task definition and the image", () => {
  it("runs on Fargate with one essential bridge container", () => {
    expect(task.raw.requiresCompatibilities).toEqual(["FARGATE"]);
    expect(task.raw.networkMode).toBe("awsvpc");
    expect(task.container.essential).toBe(true);
  });

  it("maps the port the bridge listens on, the one the image exposes", () => {
    expect(task.container.portMappings.map((mapping) => mapping.containerPort)).toEqual([config.port]);
    expect(runtime.exposedPorts).toEqual([config.port]);
    expect(config.port).toBe(8081);
    expect(config.host).toBe("0.0.0.0");
  });

  it("uses the image's health probe with the image's timings", () => {
    expect(task.container.healthCheck.command).toEqual(["CMD", ...runtime.healthcheck.command]);
    expect(`${task.container.healthCheck.interval}s`).toBe(runtime.healthcheck.options.interval);
    expect(`${task.container.healthCheck.timeout}s`).toBe(runtime.healthcheck.options.timeout);
    expect(String(task.container.healthCheck.retries)).toBe(runtime.healthcheck.options.retries);
  });

  it("gives the drain (BRIDGE_DRAIN_MS) and the handover time before SIGKILL (Fargate allows 120 s)", () => {
    expect(runtime.stopSignal).toBe("SIGTERM");
    expect(task.container.stopTimeout).toBeLessThanOrEqual(120);
    // After the drain, calls still running are handed over and their model sessions closed in order.
    expect(config.fastPaths.drainMs + 15_000).toBeLessThanOrEqual(task.container.stopTimeout * 1000);
  });

  it("sets only variables the bridge or the AWS SDK reads, and the secret only from Secrets Manager", () => {
    const known = [...CONFIG_VARIABLES.map((variable) => variable.name), ...AWS_STANDARD_VARIABLES];
    for (const name of [...Object.keys(task.env), ...Object.keys(task.secrets)])
      expect(known).toContain(name);
    expect(Object.keys(task.env)).not.toContain("BRIDGE_SECRET");
    expect(Object.keys(task.secrets)).toEqual(["BRIDGE_SECRET"]);
    expect(task.secrets.BRIDGE_SECRET).toMatch(
      new RegExp(`^arn:aws:secretsmanager:${region}:\\d{12}:secret:`),
    );
    expect(config.region).toBe(region);
  });

  it("logs to CloudWatch in its own region without blocking the event loop", () => {
    const logs = task.container.logConfiguration;
    expect(logs.logDriver).toBe("awslogs");
    expect(logs.options["awslogs-region"]).toBe(region);
    expect(logs.options.mode).toBe("non-blocking");
  });

  it("pulls an image from the region's registry", () => {
    expect(task.container.image).toMatch(new RegExp(`^\\d{12}\\.dkr\\.ecr\\.${region}\\.amazonaws\\.com/`));
  });
});

describe("the Dockerfile", () => {
  it("is multi-stage on the Node 26 slim image, runs as a non-root user, exec form throughout", () => {
    const text = readFileSync(path("bridge/Dockerfile"), "utf8");
    expect(text).toMatch(/^ARG NODE_IMAGE=node:26-slim$/m);
    expect(text.match(/^FROM /gm)).toHaveLength(2);
    expect(runtime.user).not.toBeNull();
    expect(["root", "0"]).not.toContain(runtime.user);
    expect(runtime.command).toEqual(["node", "--enable-source-maps", ...BRIDGE_NODE_FLAGS, "main.mjs"]);
    expect(runtime.healthcheck.command).toEqual(["node", "healthcheck.mjs"]);
    expect(runtime.env.NODE_ENV).toBe("production");
  });

  it("runs the bridge with the same Node options as npm run bridge", () => {
    const scripts: Record<string, string> = JSON.parse(readFileSync(path("package.json"), "utf8")).scripts;
    expect(scripts.bridge).toBe(`node ${BRIDGE_NODE_FLAGS.join(" ")} bridge/main.ts`);
  });

  it("builds with the same command as npm run build:bridge", () => {
    const scripts: Record<string, string> = JSON.parse(readFileSync(path("package.json"), "utf8")).scripts;
    expect(readBuildStage(path("bridge/Dockerfile")).runs).toContain(scripts["build:bridge"]);
  });
});

describe("the IAM policies", () => {
  it("task role: Nova Sonic streams on the configured model in the bridge's region, nothing else", () => {
    const statements = readPolicy("bridge/deploy/iam-policy.json");
    expect(statements).toHaveLength(1);
    const [statement] = statements;
    expect(statement?.Effect).toBe("Allow");
    // bedrock:InvokeModel is the permission the InvokeModelWithBidirectionalStream API reference names;
    // bedrock:InvokeModelWithBidirectionalStream is the operation's own name, which AWS samples also grant.
    expect(list(statement?.Action).sort()).toEqual([
      "bedrock:InvokeModel",
      "bedrock:InvokeModelWithBidirectionalStream",
    ]);
    expect(list(statement?.Resource)).toEqual([
      `arn:aws:bedrock:${region}::foundation-model/${config.model.modelId}`,
    ]);
  });

  it("execution role: pulls the image, writes the log group, reads exactly the task's secrets", () => {
    const statements = readPolicy("bridge/deploy/execution-role-policy.json");
    const resourcesOf = (action: string) =>
      statements.filter((s) => list(s.Action).includes(action)).flatMap((s) => list(s.Resource));
    expect(resourcesOf("secretsmanager:GetSecretValue")).toEqual(Object.values(task.secrets));
    const repository = task.container.image.replace(/^[^/]+\//, "").replace(/:[^:]+$/, "");
    expect(resourcesOf("ecr:BatchGetImage")).toEqual([
      expect.stringMatching(new RegExp(`^arn:aws:ecr:${region}:\\d{12}:repository/${repository}$`)),
    ]);
    const group = task.container.logConfiguration.options["awslogs-group"];
    expect(resourcesOf("logs:PutLogEvents")).toEqual([
      expect.stringMatching(new RegExp(`^arn:aws:logs:${region}:\\d{12}:log-group:${group}:\\*$`)),
    ]);
    for (const statement of statements) {
      if (list(statement.Resource).includes("*"))
        expect(list(statement.Action)).toEqual(["ecr:GetAuthorizationToken"]);
    }
  });

  it("both roles trust ECS tasks only", () => {
    const [trust] = readPolicy("bridge/deploy/ecs-tasks-trust-policy.json");
    expect(trust?.Principal).toEqual({ Service: "ecs-tasks.amazonaws.com" });
    expect(list(trust?.Action)).toEqual(["sts:AssumeRole"]);
  });
});

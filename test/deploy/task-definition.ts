/**
 * The example ECS task definition (bridge/deploy/ecs-task-definition.json), parsed into the fields the
 * tests compare with the image and the bridge's configuration. Unknown fields are allowed (ECS has many);
 * the ones read here must be present and well-typed.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as v from "valibot";
import { parseJsonText, validate } from "../../shared/schema.ts";

export const TASK_DEFINITION_PATH = fileURLToPath(
  new URL("../../bridge/deploy/ecs-task-definition.json", import.meta.url),
);

const nameValue = v.object({ name: v.string(), value: v.string() });
const containerSchema = v.object({
  name: v.string(),
  image: v.string(),
  essential: v.literal(true),
  portMappings: v.pipe(
    v.array(v.object({ containerPort: v.number(), protocol: v.picklist(["tcp", "udp"]) })),
    v.minLength(1),
  ),
  environment: v.array(nameValue),
  secrets: v.array(v.object({ name: v.string(), valueFrom: v.string() })),
  healthCheck: v.object({
    command: v.array(v.string()),
    interval: v.number(),
    timeout: v.number(),
    retries: v.number(),
    startPeriod: v.number(),
  }),
  stopTimeout: v.number(),
  logConfiguration: v.object({
    logDriver: v.string(),
    options: v.record(v.string(), v.string()),
  }),
});
const taskDefinitionSchema = v.object({
  family: v.string(),
  requiresCompatibilities: v.array(v.string()),
  networkMode: v.string(),
  cpu: v.string(),
  memory: v.string(),
  executionRoleArn: v.string(),
  taskRoleArn: v.string(),
  containerDefinitions: v.pipe(v.array(containerSchema), v.length(1, "exactly one container: the bridge")),
});

export type ContainerDefinition = v.InferOutput<typeof containerSchema>;

export interface TaskDefinition {
  raw: v.InferOutput<typeof taskDefinitionSchema>;
  container: ContainerDefinition;
  /** The container's `environment`, as a record. */
  env: Record<string, string>;
  /** The container's `secrets`: name -> valueFrom (a Secrets Manager ARN). */
  secrets: Record<string, string>;
}

export function parseTaskDefinition(text: string): TaskDefinition {
  const raw = validate(
    taskDefinitionSchema,
    parseJsonText(text, 100_000, "task definition"),
    "task definition",
    "bad_config",
  );
  const container = raw.containerDefinitions[0]!;
  return {
    raw,
    container,
    env: Object.fromEntries(container.environment.map(({ name, value }) => [name, value])),
    secrets: Object.fromEntries(container.secrets.map(({ name, valueFrom }) => [name, valueFrom])),
  };
}

export function readTaskDefinition(path: string = TASK_DEFINITION_PATH): TaskDefinition {
  return parseTaskDefinition(readFileSync(path, "utf8"));
}

/** The container's environment as ECS builds it: `environment`, plus each secret's value under its name. */
export function containerEnvironment(
  task: TaskDefinition,
  secretValues: Record<string, string>,
): Record<string, string> {
  const env = { ...task.env };
  for (const name of Object.keys(task.secrets)) {
    const value = secretValues[name];
    if (value === undefined) throw new Error(`no test value for the secret ${name}`);
    env[name] = value;
  }
  return env;
}

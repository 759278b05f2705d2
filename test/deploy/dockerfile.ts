/**
 * Reads bridge/Dockerfile's runtime stage (the last FROM) so that the tests start the bundle exactly as the
 * image would: same command (ENTRYPOINT + CMD, exec form), same environment (ENV), same health probe
 * (HEALTHCHECK CMD), same files (COPY --from). Only the instructions this project's Dockerfile uses.
 */
import { readFileSync } from "node:fs";

export interface RuntimeStage {
  env: Record<string, string>;
  workdir: string;
  user: string | null;
  exposedPorts: number[];
  /** ENTRYPOINT then CMD, both exec form. */
  command: string[];
  healthcheck: { command: string[]; options: Record<string, string> };
  stopSignal: string | null;
  /** COPY --from=<stage> <src> <dest> */
  copiesFromStages: { stage: string; source: string; destination: string }[];
}

/** Build-stage COPY sources (repository paths sent in the build context). */
export interface BuildStage {
  contextCopies: string[];
  runs: string[];
}

interface Instruction {
  keyword: string;
  args: string;
}

function instructions(text: string): Instruction[] {
  const joined = text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n")
    .replace(/\\\n/g, " ");
  return joined
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map((line) => {
      const match = /^(\w+)\s+(.*)$/.exec(line);
      if (!match) throw new Error(`unreadable Dockerfile line: ${line}`);
      return { keyword: match[1]!.toUpperCase(), args: match[2]!.trim() };
    });
}

function execForm(keyword: string, args: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    throw new Error(`${keyword} must use the exec form (a JSON array), got: ${args}`);
  }
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === "string")) {
    throw new Error(`${keyword} must be a JSON array of strings`);
  }
  return parsed;
}

function stages(path: string): Instruction[][] {
  const all = instructions(readFileSync(path, "utf8"));
  const result: Instruction[][] = [];
  for (const instruction of all) {
    if (instruction.keyword === "FROM") result.push([]);
    result.at(-1)?.push(instruction);
  }
  return result;
}

export function readBuildStage(path: string): BuildStage {
  const first = stages(path)[0] ?? [];
  return {
    contextCopies: first
      .filter((i) => i.keyword === "COPY" && !i.args.startsWith("--from"))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1)),
    runs: first.filter((i) => i.keyword === "RUN").map((i) => i.args),
  };
}

export function readRuntimeStage(path: string): RuntimeStage {
  const last = stages(path).at(-1);
  if (!last) throw new Error(`${path} has no FROM`);
  const stage: RuntimeStage = {
    env: {},
    workdir: "/",
    user: null,
    exposedPorts: [],
    command: [],
    healthcheck: { command: [], options: {} },
    stopSignal: null,
    copiesFromStages: [],
  };
  let entrypoint: string[] = [];
  let cmd: string[] = [];
  for (const { keyword, args } of last) {
    if (keyword === "ENV") {
      for (const pair of args.split(/\s+/)) {
        const [name, ...value] = pair.split("=");
        if (!name || value.length === 0) throw new Error(`ENV must use name=value, got: ${pair}`);
        stage.env[name] = value.join("=");
      }
    } else if (keyword === "WORKDIR") stage.workdir = args;
    else if (keyword === "USER") stage.user = args;
    else if (keyword === "EXPOSE") stage.exposedPorts.push(...args.split(/\s+/).map((port) => Number(port)));
    else if (keyword === "ENTRYPOINT") entrypoint = execForm(keyword, args);
    else if (keyword === "CMD") cmd = execForm(keyword, args);
    else if (keyword === "STOPSIGNAL") stage.stopSignal = args;
    else if (keyword === "HEALTHCHECK") {
      const match = /^((?:--[\w-]+=\S+\s+)*)CMD\s+(.*)$/.exec(args);
      if (!match) throw new Error(`HEALTHCHECK must be [options] CMD [exec form], got: ${args}`);
      for (const option of match[1]!.trim().split(/\s+/).filter(Boolean)) {
        const [name, value] = option.replace(/^--/, "").split("=");
        stage.healthcheck.options[name!] = value ?? "";
      }
      stage.healthcheck.command = execForm("HEALTHCHECK CMD", match[2]!);
    } else if (keyword === "COPY" && args.startsWith("--from=")) {
      const [from, source, destination] = args.split(/\s+/);
      stage.copiesFromStages.push({
        stage: from!.slice("--from=".length),
        source: source!,
        destination: destination!,
      });
    }
  }
  stage.command = [...entrypoint, ...cmd];
  return stage;
}

/** .dockerignore patterns, in order (`!` re-includes). */
export function readDockerignore(path: string): string[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

function patternRegex(pattern: string): RegExp {
  const cleaned = pattern.replace(/^\/+|\/+$/g, "");
  let source = "";
  for (let i = 0; i < cleaned.length; i++) {
    const char = cleaned[i]!;
    if (cleaned.startsWith("**/", i)) {
      source += "(?:.*/)?";
      i += 2;
    } else if (cleaned.startsWith("**", i)) {
      source += ".*";
      i += 1;
    } else if (char === "*") source += "[^/]*";
    else if (char === "?") source += "[^/]";
    else source += char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

/**
 * Whether a repository path reaches the build context, with Docker's rules for the patterns used here:
 * a pattern matching a directory matches everything below it, and the last matching pattern wins.
 */
export function isSentInContext(path: string, patterns: readonly string[]): boolean {
  const parts = path.split("/");
  const prefixes = parts.map((_, index) => parts.slice(0, index + 1).join("/"));
  let sent = true;
  for (const pattern of patterns) {
    const negated = pattern.startsWith("!");
    const regex = patternRegex(negated ? pattern.slice(1) : pattern);
    if (prefixes.some((prefix) => regex.test(prefix))) sent = negated;
  }
  return sent;
}

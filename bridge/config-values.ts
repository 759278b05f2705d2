/**
 * Reading configuration values from the environment, collecting every problem instead of stopping at the
 * first (bridge/config.ts and the modules that parse their own part of the configuration).
 */
export type Env = Readonly<Record<string, string | undefined>>;

/** One row of the configuration table (README): name, meaning, default. */
export interface ConfigVariable {
  name: string;
  meaning: string;
  defaultValue: string;
}

export class Problems {
  readonly list: string[] = [];
  add(name: string, why: string): void {
    this.list.push(`${name}: ${why}`);
  }
}

export function text(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

export function integer(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max: number,
  problems: Problems,
) {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const value = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    problems.add(name, `expected an integer from ${min} to ${max}, got "${raw}"`);
    return fallback;
  }
  return value;
}

export function decimal(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max: number,
  problems: Problems,
) {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const value = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= min && value <= max)) {
    problems.add(name, `expected a number from ${min} to ${max}, got "${raw}"`);
    return fallback;
  }
  return value;
}

export function oneOf<T extends string | number>(
  env: Env,
  name: string,
  allowed: readonly T[],
  fallback: T,
  problems: Problems,
): T {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const found = allowed.find((option) => String(option) === raw);
  if (found === undefined) {
    problems.add(name, `expected one of ${allowed.join(", ")}, got "${raw}"`);
    return fallback;
  }
  return found;
}

export function flag(env: Env, name: string, fallback: boolean, problems: Problems): boolean {
  const raw = text(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (["on", "true", "1", "yes"].includes(raw)) return true;
  if (["off", "false", "0", "no"].includes(raw)) return false;
  problems.add(name, `expected on or off, got "${raw}"`);
  return fallback;
}

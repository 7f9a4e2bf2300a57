/** A check compiled ahead of time: true when `value` matches the schema it was made from. */
export type PrecompiledCheck = (value: unknown) => boolean;

/**
 * Checks a build compiled ahead of time (TypeBox's `Code`), keyed by {@link schemaKey}. The
 * session server's bundle registers the control channel's as it loads, so a session server
 * checks its way to Inactive and answers health checks without loading TypeBox at all; from
 * the sources nothing is registered and every validator compiles its own.
 */
const checks = new Map<string, PrecompiledCheck>();

/** Adds checks compiled ahead of time; a later one for the same key replaces the earlier. */
export function registerPrecompiledChecks(
  entries: Iterable<readonly [key: string, check: PrecompiledCheck]>,
): void {
  for (const [key, check] of entries) checks.set(key, check);
}

/** The check compiled ahead of time for `schema`, if a build registered one. */
export function precompiledCheck(schema: unknown): PrecompiledCheck | undefined {
  return checks.size === 0 ? undefined : checks.get(schemaKey(schema));
}

/**
 * A schema's identity as text: every own property (TypeBox's hidden `~kind` and `~optional`
 * too), keys sorted, so two schemas get one key exactly when a validator cannot tell them apart.
 */
export function schemaKey(schema: unknown): string {
  if (Array.isArray(schema)) return `[${schema.map(schemaKey).join(",")}]`;
  if (typeof schema === "object" && schema !== null) {
    const names = Object.getOwnPropertyNames(schema).sort();
    const record = schema as Record<string, unknown>;
    return `{${names.map((name) => `${JSON.stringify(name)}:${schemaKey(record[name])}`).join(",")}}`;
  }
  if (typeof schema === "string") return JSON.stringify(schema);
  // Numbers keep -0 and NaN apart from 0 and null; undefined and bigints stay distinct.
  return typeof schema === "number" && Object.is(schema, -0) ? "-0" : String(schema);
}

// JavaScript source that rebuilds a graph of plain values (TypeBox schemas): objects, arrays and
// primitives, objects shared between places still shared, TypeBox's hidden properties (`~kind`,
// `~optional`: own, writable, configurable, not enumerable) still hidden, frozen objects frozen.
// Anything else (functions, class instances, getters, symbols) cannot be written as source and
// throws, naming where it was found: the build then fails rather than ship a different value.

/** The source for a list of values: declarations to put first, then one expression per value. */
export interface ValueSource {
  /** `const` declarations of the objects met more than once (and the helper they use). */
  readonly declarations: string;
  /** One expression per value, in order, valid after {@link declarations}. */
  readonly expressions: readonly string[];
}

/** The helper that gives an object literal its hidden properties. */
const HIDE = "__hide";
// Redefining a property keeps its place among the object's keys, so the order stays the recorded one.
const HIDE_SOURCE = `const ${HIDE} = (object, keys) => { for (const key of keys) Object.defineProperty(object, key, { enumerable: false }); return object; };`;

/**
 * Writes `values` as JavaScript source. Objects met more than once become one `const` each
 * (children before parents), so identity is kept within and across the values.
 */
export function valueSource(values: readonly unknown[]): ValueSource {
  const seen = new Map<object, number>();
  const count = (value: unknown, path: string) => {
    if (typeof value !== "object" || value === null) return;
    const times = (seen.get(value) ?? 0) + 1;
    seen.set(value, times);
    if (times > 1) return;
    for (const [key, child] of ownEntries(value, path)) count(child, `${path}${pathStep(key)}`);
  };
  for (const [index, value] of values.entries()) count(value, `[${index}]`);

  const names = new Map<object, string>();
  const declarations: string[] = [];
  const write = (value: unknown, path: string): string => {
    if (typeof value !== "object" || value === null) return primitive(value, path);
    const named = names.get(value);
    if (named !== undefined) return named;
    const literal = objectLiteral(value, path, write);
    if ((seen.get(value) ?? 0) < 2) return literal;
    const name = `v${names.size}`;
    names.set(value, name);
    declarations.push(`const ${name} = ${literal};`);
    return name;
  };
  const expressions = values.map((value, index) => write(value, `[${index}]`));
  return { declarations: [HIDE_SOURCE, ...declarations].join("\n"), expressions };
}

/** An object or array as a literal; its children written by `write`. */
function objectLiteral(
  value: object,
  path: string,
  write: (child: unknown, path: string) => string,
): string {
  const entries = ownEntries(value, path);
  let literal: string;
  if (Array.isArray(value)) {
    literal = `[${entries.map(([key, child]) => write(child, `${path}${pathStep(key)}`)).join(", ")}]`;
  } else {
    const properties = entries.map(([key, child]) => {
      // A literal's "__proto__" would set the prototype; a computed key is an own property.
      const name = key === "__proto__" ? `["__proto__"]` : JSON.stringify(key);
      return `${name}: ${write(child, `${path}${pathStep(key)}`)}`;
    });
    const hidden = entries
      .filter(([key]) => Object.getOwnPropertyDescriptor(value, key)?.enumerable !== true)
      .map(([key]) => JSON.stringify(key));
    literal = `{${properties.join(", ")}}`;
    if (hidden.length > 0) literal = `${HIDE}(${literal}, [${hidden.join(", ")}])`;
  }
  if (Object.isFrozen(value)) return `Object.freeze(${literal})`;
  if (!Object.isExtensible(value)) throw new Error(`${path}: sealed but not frozen`);
  return literal;
}

/** The own properties of a plain object or dense array, checked to be writable as source. */
function ownEntries(value: object, path: string): [string, unknown][] {
  const prototype = Object.getPrototypeOf(value);
  const isArray = Array.isArray(value);
  if (prototype !== (isArray ? Array.prototype : Object.prototype)) {
    throw new Error(`${path}: not a plain object or array (${value.constructor?.name ?? "null"})`);
  }
  if (Object.getOwnPropertySymbols(value).length > 0) throw new Error(`${path}: symbol keys`);
  const frozen = Object.isFrozen(value);
  const entries: [string, unknown][] = [];
  for (const key of Object.getOwnPropertyNames(value)) {
    if (isArray && key === "length") continue;
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    if (descriptor === undefined || !("value" in descriptor)) {
      throw new Error(`${path}${pathStep(key)}: an accessor`);
    }
    // A frozen object's properties are all read-only; anything else must be plain or hidden.
    const plain = frozen || (descriptor.writable === true && descriptor.configurable === true);
    if (!plain || (isArray && descriptor.enumerable !== true)) {
      throw new Error(`${path}${pathStep(key)}: an unusual property descriptor`);
    }
    entries.push([key, descriptor.value]);
  }
  if (isArray && entries.length !== (value as unknown[]).length) {
    throw new Error(`${path}: a sparse array or one with extra properties`);
  }
  return entries;
}

function primitive(value: unknown, path: string): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "boolean":
      return String(value);
    case "bigint":
      return `${value}n`;
    case "undefined":
      return "undefined";
    default:
      if (value === null) return "null";
      throw new Error(`${path}: a ${typeof value} cannot be written as source`);
  }
}

function pathStep(key: string): string {
  return /^\d+$/.test(key) ? `[${key}]` : `.${key}`;
}

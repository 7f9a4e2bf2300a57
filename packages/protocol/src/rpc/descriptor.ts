import type { Static, TSchema } from "typebox";
import type * as TypeBoxCompile from "typebox/compile";
import type * as TypeBoxValue from "typebox/value";
import { describeValue, RialtoError } from "../errors.ts";
import { type PrecompiledCheck, precompiledCheck } from "./precompiled-checks.ts";

// TypeBox's checker and compiler load on first use: the session server's bundle checks its
// control channel with checks compiled ahead of time, so it loads neither (a quarter of its
// code) unless a check fails or a client's message needs one (BENCHMARKS.md, lifecycle).
let typeboxValue: typeof TypeBoxValue | undefined;
let typeboxCompile: typeof TypeBoxCompile | undefined;
const valueModule = () => (typeboxValue ??= require("typebox/value") as typeof TypeBoxValue);
const compileModule = () =>
  (typeboxCompile ??= require("typebox/compile") as typeof TypeBoxCompile);

/** A validator for one schema: interpreted while it is cold, compiled once it is used often. */
export interface MessageValidator<T> {
  /** The schema (also exported as JSON Schema). */
  readonly schema: TSchema;
  /** True when `value` matches the schema. */
  check(value: unknown): value is T;
  /** Returns `value` typed, or throws INVALID_ARGUMENT naming `what` and the first mismatch. */
  assert(value: unknown, what: string): T;
}

/**
 * Checks a schema interprets before it compiles it. Compiling generates and JIT-parses a
 * function (several milliseconds for a large message in a fresh process): not worth it for the
 * one or two control messages a session server checks on its way to Inactive, where compiling
 * cost a third of its start-up. A message checked a third time is one that recurs (the health
 * check's ping every 5 s, media calls): interpreting it sixteen times, as this did before, kept
 * an idle session server's JIT busy with TypeBox's checker ping after ping (0.13-0.15 % of a
 * core per idle server against 0.07 % compiled, BENCHMARKS.md).
 */
export const INTERPRETED_CHECKS = 2;

/**
 * Wraps `schema` in a {@link MessageValidator}: a check compiled ahead of time when a build
 * registered one for it (`registerPrecompiledChecks`); else its first {@link INTERPRETED_CHECKS}
 * checks run TypeBox's interpreter (`typebox/value` Check), later ones a validator compiled
 * once. All accept exactly the same values.
 */
export function compileValidator<S extends TSchema>(schema: S): MessageValidator<Static<S>> {
  let compiled: PrecompiledCheck | undefined;
  let interpreted = 0;
  const check = (candidate: unknown): boolean => {
    if (compiled !== undefined) return compiled(candidate);
    if (interpreted === 0) compiled = precompiledCheck(schema);
    if (compiled !== undefined) return compiled(candidate);
    if (interpreted < INTERPRETED_CHECKS) {
      interpreted++;
      return valueModule().Check(schema, candidate);
    }
    const validator = compileModule().Compile(schema);
    compiled = (candidate) => validator.Check(candidate);
    return compiled(candidate);
  };
  return {
    schema,
    check: (value: unknown): value is Static<S> => check(value),
    assert(value: unknown, what: string): Static<S> {
      if (check(value)) return value as Static<S>;
      throw new RialtoError("INVALID_ARGUMENT", `${what}: ${firstMismatch(schema, value)}`);
    },
  };
}

/** One error of TypeBox's `Errors`. */
interface SchemaError {
  keyword: string;
  schemaPath: string;
  instancePath: string;
  params: { additionalProperties?: string[]; allowedValues?: unknown[] };
  message: string;
}

/**
 * The mismatch a person fixes first, in words: an unknown property (named with the known ones,
 * e.g. `/playback: unknown property engin (known: engine, clock, sink)`), else the deepest
 * error, an enum's allowed values spelled out.
 */
function firstMismatch(schema: TSchema, value: unknown): string {
  const errors = (valueModule().Errors(schema, value) as SchemaError[]).filter(
    // A closed object reports an extra property twice: as "schema is false" and as below.
    (error) => error.keyword !== "boolean",
  );
  // Inside a union every other branch reports the properties it lacks: not a typo there.
  const extra = errors.find(
    (error) => error.keyword === "additionalProperties" && !error.schemaPath.includes("anyOf"),
  );
  const names = extra?.params.additionalProperties;
  if (extra !== undefined && names !== undefined && names.length > 0) {
    const known = Object.keys(schemaAt(schema, extra.schemaPath)?.properties ?? {});
    const where = extra.instancePath === "" ? "" : `${extra.instancePath}: `;
    const list = names.map((name) => JSON.stringify(name)).join(", ");
    return `${where}unknown propert${names.length === 1 ? "y" : "ies"} ${list} (known: ${known.join(", ") || "none"})`;
  }
  // The most specific error (the deepest path) names the offending field best.
  const best = errors.reduce<SchemaError | undefined>(
    (deepest, error) =>
      deepest === undefined || error.instancePath.length > deepest.instancePath.length
        ? error
        : deepest,
    undefined,
  );
  if (best === undefined) return `invalid value ${describeValue(value)}`;
  const path = best.instancePath === "" ? "value" : best.instancePath;
  const allowed = best.params.allowedValues;
  if (allowed !== undefined) {
    const actual = valueAt(value, best.instancePath);
    return `${path} is ${describeValue(actual)}, not one of ${allowed.map((v) => JSON.stringify(v)).join(", ")}`;
  }
  return `${path} ${best.message}`;
}

/** The sub-schema at a JSON pointer like `#/properties/playback` (undefined when absent). */
function schemaAt(
  schema: TSchema,
  pointer: string,
): { properties?: Record<string, unknown> } | undefined {
  let node: unknown = schema;
  for (const part of pointer.replace(/^#\/?/, "").split("/")) {
    if (part === "") continue;
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === "object" && node !== null
    ? (node as { properties?: Record<string, unknown> })
    : undefined;
}

/** The value at a JSON pointer like `/playback/clock`. */
function valueAt(value: unknown, pointer: string): unknown {
  let node = value;
  for (const part of pointer.split("/").slice(1)) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** A request/response method: one descriptor drives the caller's types and the handler's. */
export interface MethodDescriptor<
  Name extends string = string,
  Params = unknown,
  Result = unknown,
> {
  readonly kind: "method";
  /** Wire name, `service/method` (e.g. `pipeline/play`). */
  readonly name: Name;
  readonly params: MessageValidator<Params>;
  readonly result: MessageValidator<Result>;
}

/** A one-way notification (server push or fire-and-forget). */
export interface EventDescriptor<Name extends string = string, Payload = unknown> {
  readonly kind: "event";
  readonly name: Name;
  readonly payload: MessageValidator<Payload>;
}

/** Defines a method from its params and result schemas (compiled here, once). */
export function defineMethod<Name extends string, P extends TSchema, R extends TSchema>(
  name: Name,
  params: P,
  result: R,
): MethodDescriptor<Name, Static<P>, Static<R>> {
  return {
    kind: "method",
    name,
    params: compileValidator(params),
    result: compileValidator(result),
  };
}

/** Defines an event from its payload schema (compiled here, once). */
export function defineEvent<Name extends string, P extends TSchema>(
  name: Name,
  payload: P,
): EventDescriptor<Name, Static<P>> {
  return { kind: "event", name, payload: compileValidator(payload) };
}

/** The params type of a method descriptor. */
export type ParamsOf<M> = M extends MethodDescriptor<string, infer P, unknown> ? P : never;
/** The result type of a method descriptor. */
export type ResultOf<M> = M extends MethodDescriptor<string, unknown, infer R> ? R : never;
/** The payload type of an event descriptor. */
export type PayloadOf<E> = E extends EventDescriptor<string, infer P> ? P : never;

// biome-ignore lint/suspicious/noExplicitAny: descriptor collections are heterogeneous by nature
export type AnyMethod = MethodDescriptor<string, any, any>;
// biome-ignore lint/suspicious/noExplicitAny: descriptor collections are heterogeneous by nature
export type AnyEvent = EventDescriptor<string, any>;

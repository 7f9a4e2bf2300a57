import type { Static, TSchema } from "typebox";
import { Compile } from "typebox/compile";
import { describeValue, RialtoError } from "../errors.ts";

/** A compiled validator for one schema: compiled once, on its first use. */
export interface MessageValidator<T> {
  /** The schema (also exported as JSON Schema). */
  readonly schema: TSchema;
  /** True when `value` matches the schema. */
  check(value: unknown): value is T;
  /** Returns `value` typed, or throws INVALID_ARGUMENT naming `what` and the first mismatch. */
  assert(value: unknown, what: string): T;
}

/**
 * Wraps `schema` in a {@link MessageValidator} compiled on first use: a process compiles only
 * the messages it actually handles (about 150 are defined; a session server reaching Inactive
 * needs a handful, and compiling them all cost ~90 ms of its start-up).
 */
export function compileValidator<S extends TSchema>(schema: S): MessageValidator<Static<S>> {
  let compiled: ReturnType<typeof Compile> | undefined;
  const validator = (): ReturnType<typeof Compile> => {
    compiled ??= Compile(schema);
    return compiled;
  };
  return {
    schema,
    check: (value: unknown): value is Static<S> => validator().Check(value),
    assert(value: unknown, what: string): Static<S> {
      if (validator().Check(value)) return value as Static<S>;
      throw new RialtoError("INVALID_ARGUMENT", `${what}: ${firstMismatch(validator(), value)}`);
    },
  };
}

function firstMismatch(compiled: ReturnType<typeof Compile>, value: unknown): string {
  const errors = compiled.Errors(value) as { instancePath: string; message: string }[];
  // The most specific error (the deepest path) names the offending field best.
  const best = errors.reduce<(typeof errors)[number] | undefined>(
    (deepest, error) =>
      deepest === undefined || error.instancePath.length > deepest.instancePath.length
        ? error
        : deepest,
    undefined,
  );
  if (best === undefined) return `invalid value ${describeValue(value)}`;
  const path = best.instancePath === "" ? "value" : best.instancePath;
  return `${path} ${best.message}`;
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

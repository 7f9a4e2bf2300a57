import { describe, expect, it } from "bun:test";
import * as protocol from "@rialto/protocol";
import { valueSource } from "./value-source.ts";

/** Evaluates what {@link valueSource} wrote for `values`. */
function rebuilt(values: readonly unknown[]): unknown[] {
  const { declarations, expressions } = valueSource(values);
  return new Function(`${declarations}\nreturn [${expressions.join(",\n")}];`)() as unknown[];
}

/**
 * Everything about a value graph a program can observe without identity: own property names in
 * order with their descriptors' flags, frozen or not, primitives (-0 apart from 0), and which
 * places hold the same object (the path where it was first met).
 */
function shape(value: unknown, seen = new Map<object, string>(), path = "$"): unknown {
  if (typeof value !== "object" || value === null) {
    return Object.is(value, -0) ? "-0" : typeof value === "bigint" ? `${value}n` : value;
  }
  const first = seen.get(value);
  if (first !== undefined) return { sameAs: first };
  seen.set(value, path);
  return {
    array: Array.isArray(value),
    frozen: Object.isFrozen(value),
    properties: Object.getOwnPropertyNames(value).map((name) => {
      const { value: child, ...flags } = Object.getOwnPropertyDescriptor(value, name) ?? {};
      return [name, flags, shape(child, seen, `${path}.${name}`)];
    }),
  };
}

/** Every schema @rialto/protocol exports, and the schemas inside its message descriptors. */
function protocolSchemas(): unknown[] {
  const schemas: unknown[] = [];
  for (const value of Object.values(protocol)) {
    if (typeof value !== "object" || value === null) continue;
    if ("~kind" in value) schemas.push(value);
  }
  for (const descriptor of Object.values(protocol.ALL_MESSAGES)) {
    if (descriptor.kind === "method")
      schemas.push(descriptor.params.schema, descriptor.result.schema);
    else schemas.push(descriptor.payload.schema);
  }
  return schemas;
}

describe("valueSource", () => {
  it("rebuilds every schema TypeBox built for @rialto/protocol, hidden properties and sharing kept", () => {
    const schemas = protocolSchemas();
    expect(schemas.length).toBeGreaterThan(200);
    const copies = rebuilt(schemas);
    expect(shape(copies)).toEqual(shape(schemas));
    // A copy, not the same objects: the source stands on its own.
    expect(copies[0]).not.toBe(schemas[0]);
  });

  it("keeps primitives JSON would change, a __proto__ key, frozen objects and shared objects", () => {
    const shared = Object.freeze({ n: -0 });
    const withProto = JSON.parse('{"__proto__": 1, "nan": null}');
    withProto.nan = Number.NaN;
    const values = [shared, { a: shared, b: [shared, undefined, 2n, Infinity] }, withProto];
    const copies = rebuilt(values);
    expect(shape(copies)).toEqual(shape(values));
    expect(Object.getPrototypeOf(copies[2])).toBe(Object.prototype);
    const [first, second] = copies as [object, { a: object; b: object[] }];
    expect(second.a).toBe(first);
    expect(second.b[0]).toBe(first);
  });

  it("refuses what source cannot rebuild, naming where it is", () => {
    expect(() => valueSource([{ schema: { check: () => true } }])).toThrow(
      "[0].schema.check: a function",
    );
    expect(() => valueSource([[new Date(0)]])).toThrow(
      "[0][0]: not a plain object or array (Date)",
    );
    expect(() =>
      valueSource([Object.defineProperty({}, "size", { get: () => 1, enumerable: true })]),
    ).toThrow("[0].size: an accessor");
    expect(() => valueSource([{ [Symbol("s")]: 1 }])).toThrow("[0]: symbol keys");
    expect(() => valueSource([Object.seal({ a: 1 })])).toThrow("an unusual property descriptor");
  });
});

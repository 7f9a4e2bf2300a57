import { describe, expect, it } from "bun:test";
import Type, { type TSchema } from "typebox";
import { diffSchemas, type SchemaChange } from "./schema-diff.ts";
import { toJsonSchema } from "./schema-export.ts";

const closed = (properties: Record<string, TSchema>) =>
  Type.Object(properties, { additionalProperties: false });

function diff(before: TSchema, after: TSchema): SchemaChange[] {
  return diffSchemas(toJsonSchema(before), toJsonSchema(after), "m params");
}

const incompatible = (changes: SchemaChange[]) => changes.filter((c) => !c.compatible);

function expectIncompatible(changes: SchemaChange[], description: RegExp, path?: string) {
  const found = incompatible(changes).find((c) => description.test(c.description));
  expect(
    found,
    `no incompatible change matching ${description} in ${JSON.stringify(changes)}`,
  ).toBeDefined();
  if (path !== undefined) expect(found?.path).toBe(path);
}

function expectOnlyCompatible(changes: SchemaChange[], description: RegExp) {
  expect(changes.length).toBeGreaterThan(0);
  expect(incompatible(changes)).toEqual([]);
  expect(changes.some((c) => description.test(c.description))).toBe(true);
}

const Id = Type.Integer({ minimum: 0, maximum: 100 });

describe("diffSchemas", () => {
  it("finds no change between identical schemas", () => {
    const schema = closed({ id: Id, name: Type.Optional(Type.String({ maxLength: 8 })) });
    expect(diff(schema, schema)).toEqual([]);
  });

  it("ignores annotations such as descriptions", () => {
    expect(
      diff(Type.String({ maxLength: 4 }), Type.String({ maxLength: 4, description: "x" })),
    ).toEqual([]);
  });

  it("classifies a removed field as incompatible", () => {
    const changes = diff(closed({ id: Id, name: Type.String() }), closed({ id: Id }));
    expectIncompatible(changes, /field "name" removed/, "m params.name");
  });

  it("classifies a renamed field as a removal plus an addition", () => {
    const changes = diff(closed({ id: Id }), closed({ pipelineId: Id }));
    expectIncompatible(changes, /field "id" removed/);
    expectIncompatible(changes, /required field "pipelineId" added/);
  });

  it("classifies an added optional field as compatible", () => {
    const changes = diff(
      closed({ id: Id }),
      closed({ id: Id, extra: Type.Optional(Type.Boolean()) }),
    );
    expectOnlyCompatible(changes, /optional field "extra" added/);
  });

  it("classifies an added required field as incompatible", () => {
    expectIncompatible(
      diff(closed({ id: Id }), closed({ id: Id, extra: Type.Boolean() })),
      /required field "extra" added/,
    );
  });

  it("classifies an optional field made required as incompatible", () => {
    const changes = diff(closed({ id: Type.Optional(Id) }), closed({ id: Id }));
    expectIncompatible(changes, /optional field "id" became required/, "m params.id");
  });

  it("classifies a required field made optional as compatible", () => {
    expectOnlyCompatible(
      diff(closed({ id: Id }), closed({ id: Type.Optional(Id) })),
      /became optional/,
    );
  });

  it("classifies a narrowed enum as incompatible and a widened one as compatible", () => {
    const two = Type.Enum(["Idle", "Playing"]);
    const three = Type.Enum(["Idle", "Playing", "Paused"]);
    expectIncompatible(diff(three, two), /value "Paused" no longer accepted/);
    expectOnlyCompatible(diff(two, three), /value "Paused" now accepted/);
  });

  it("treats a literal union and an enum of the same values as equivalent", () => {
    const union = Type.Union([Type.Literal("a"), Type.Literal("b")]);
    expect(incompatible(diff(union, Type.Enum(["a", "b"])))).toEqual([]);
    expect(diff(Type.Enum(["a", "b"]), union)).toEqual([]);
  });

  it("classifies narrowed numeric bounds as incompatible and widened ones as compatible", () => {
    const wide = Type.Integer({ minimum: 0, maximum: 100 });
    expectIncompatible(
      diff(wide, Type.Integer({ minimum: 1, maximum: 100 })),
      /minimum.* narrowed from 0 to 1/,
    );
    expectIncompatible(
      diff(wide, Type.Integer({ minimum: 0, maximum: 99 })),
      /maximum.* narrowed from 100 to 99/,
    );
    expectIncompatible(
      diff(wide, Type.Integer({ exclusiveMinimum: 0, maximum: 100 })),
      /narrowed from 0 to exclusive 0/,
    );
    expectOnlyCompatible(
      diff(wide, Type.Integer({ minimum: 0, maximum: 1000 })),
      /widened from 100 to 1000/,
    );
    expectOnlyCompatible(diff(wide, Type.Integer({ maximum: 100 })), /widened from 0 to none/);
  });

  it("classifies a bound added to an unbounded value as incompatible", () => {
    expectIncompatible(
      diff(Type.String(), Type.String({ maxLength: 10 })),
      /maxLength narrowed from none to 10/,
    );
  });

  it("classifies string and array length changes by direction", () => {
    expectIncompatible(
      diff(Type.String({ maxLength: 10 }), Type.String({ maxLength: 5 })),
      /maxLength narrowed/,
    );
    expectOnlyCompatible(
      diff(Type.String({ minLength: 2 }), Type.String({ minLength: 1 })),
      /minLength widened/,
    );
    const items = Type.Array(Id, { maxItems: 4 });
    expectIncompatible(diff(items, Type.Array(Id, { maxItems: 3 })), /maxItems narrowed/);
    expectIncompatible(
      diff(items, Type.Array(Type.Integer({ minimum: 0, maximum: 50 }), { maxItems: 4 })),
      /maximum.* narrowed/,
      "m params[]",
    );
  });

  it("classifies number → integer as incompatible and integer → number as compatible", () => {
    expectIncompatible(
      diff(Type.Number(), Type.Integer()),
      /type changed from \["number"\] to \["integer"\]/,
    );
    expectOnlyCompatible(diff(Type.Integer(), Type.Number()), /type widened/);
  });

  it("classifies a changed type as incompatible without further noise", () => {
    const changes = diff(Type.String({ maxLength: 3 }), Type.Integer({ minimum: 0, maximum: 3 }));
    expect(changes).toHaveLength(1);
    expectIncompatible(changes, /type changed/);
  });

  it("classifies a changed or added pattern as incompatible and a removed one as compatible", () => {
    const hex = Type.String({ maxLength: 8, pattern: "^[0-9a-f]*$" });
    expectIncompatible(
      diff(hex, Type.String({ maxLength: 8, pattern: "^[0-9A-F]*$" })),
      /pattern changed/,
    );
    expectIncompatible(diff(Type.String({ maxLength: 8 }), hex), /pattern changed from none/);
    expectOnlyCompatible(diff(hex, Type.String({ maxLength: 8 })), /pattern .* removed/);
  });

  it("classifies closing an open object as incompatible and opening a closed one as compatible", () => {
    const open = Type.Object({ id: Id });
    expectIncompatible(diff(open, closed({ id: Id })), /object closed/, "m params.*");
    expectOnlyCompatible(diff(closed({ id: Id }), open), /object opened/);
  });

  it("classifies a field added to an open object as incompatible (it was unconstrained)", () => {
    expectIncompatible(
      diff(Type.Object({ id: Id }), Type.Object({ id: Id, name: Type.Optional(Type.String()) })),
      /was unconstrained/,
    );
  });

  it("classifies a narrowed literal as incompatible", () => {
    expectIncompatible(diff(Type.Literal("a"), Type.Literal("b")), /value changed from "a" to "b"/);
  });

  it("classifies changes inside a discriminated union by branch", () => {
    const a = closed({ type: Type.Literal("a"), x: Id });
    const b = closed({ type: Type.Literal("b") });
    const before = Type.Union([a, b]);
    expectOnlyCompatible(
      diff(
        before,
        Type.Union([closed({ type: Type.Literal("a"), x: Id, y: Type.Optional(Id) }), b]),
      ),
      /optional field "y" added/,
    );
    expectOnlyCompatible(
      diff(before, Type.Union([a, b, closed({ type: Type.Literal("c") })])),
      /union branch .* added/,
    );
    const removed = diff(before, Type.Union([a]));
    expectIncompatible(removed, /union branch .*"b".* no longer accepted/);
    const narrowed = diff(
      before,
      Type.Union([
        closed({ type: Type.Literal("a"), x: Type.Integer({ minimum: 0, maximum: 9 }) }),
        b,
      ]),
    );
    expectIncompatible(narrowed, /maximum.* narrowed from 100 to 9/, "m params.x");
  });

  it("classifies a keyword it does not understand as incompatible when it changes", () => {
    const changes = diffSchemas(
      { type: "string", maxLength: 3, contentEncoding: "base64" },
      { type: "string", maxLength: 3 },
    );
    expectIncompatible(changes, /keyword "contentEncoding" changed/);
  });

  it("compares record-like objects by their key patterns", () => {
    const env = (max: number) =>
      Type.Record(Type.String({ pattern: "^[A-Z]+$" }), Type.String({ maxLength: max }), {
        maxProperties: 4,
        additionalProperties: false,
      });
    expectIncompatible(diff(env(10), env(5)), /maxLength narrowed/, "m params[/^[A-Z]+$/]");
    expectOnlyCompatible(diff(env(5), env(10)), /maxLength widened/);
  });

  it("accepts anything replacing a constraint as compatible, and the reverse as incompatible", () => {
    expectOnlyCompatible(diff(Type.String({ maxLength: 3 }), Type.Unknown()), /any value/);
    expectIncompatible(diff(Type.Unknown(), Type.String({ maxLength: 3 })), /was unconstrained/);
  });
});

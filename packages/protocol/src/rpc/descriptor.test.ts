import { describe, expect, it } from "bun:test";
import fc from "fast-check";
import type { TSchema } from "typebox";
import { Compile } from "typebox/compile";
import { Check, Create } from "typebox/value";
import { AppConfig } from "../messages/common.ts";
import { ALL_MESSAGES } from "../messages/message-groups.ts";
import { compileValidator, INTERPRETED_CHECKS } from "./descriptor.ts";

/** Every schema of every message: params and result of methods, payload of events. */
function everySchema(): [string, TSchema][] {
  return Object.values(ALL_MESSAGES).flatMap((descriptor): [string, TSchema][] =>
    descriptor.kind === "method"
      ? [
          [`${descriptor.name} params`, descriptor.params.schema],
          [`${descriptor.name} result`, descriptor.result.schema],
        ]
      : [[`${descriptor.name} payload`, descriptor.payload.schema]],
  );
}

/** A valid value of `schema` when TypeBox can make one. */
function validValue(schema: TSchema): { value: unknown } | undefined {
  try {
    const value = Create(schema);
    return Check(schema, value) ? { value } : undefined;
  } catch {
    return undefined;
  }
}

/** The valid value, the same with one field replaced or one added, and arbitrary values. */
function candidates(schema: TSchema): fc.Arbitrary<unknown> {
  const valid = validValue(schema)?.value;
  if (typeof valid !== "object" || valid === null || Array.isArray(valid)) {
    return fc.oneof(fc.constant(valid), fc.anything());
  }
  const keys = Object.keys(valid);
  const replaced =
    keys.length === 0
      ? fc.constant(valid)
      : fc
          .tuple(fc.constantFrom(...keys), fc.anything())
          .map(([key, value]) => ({ ...valid, [key]: value }));
  const added = fc
    .tuple(fc.string({ maxLength: 12 }), fc.anything())
    .map(([key, value]) => ({ ...valid, [key]: value }));
  return fc.oneof(fc.constant(valid), replaced, added, fc.anything());
}

describe("compileValidator", () => {
  it("interprets and compiles every message schema to the same verdicts", () => {
    const schemas = everySchema();
    // Most schemas have a valid value to start from, so both verdicts are exercised.
    const withValid = schemas.filter(([, schema]) => validValue(schema) !== undefined);
    expect(withValid.length).toBeGreaterThan(schemas.length / 2);
    for (const [name, schema] of schemas) {
      const compiled = Compile(schema);
      fc.assert(
        fc.property(candidates(schema), (value) => {
          if (Check(schema, value) !== compiled.Check(value)) {
            throw new Error(`${name}: interpreter and compiled validator disagree`);
          }
        }),
        { numRuns: 40 },
      );
    }
  });

  it("keeps its verdicts when it switches from interpreting to the compiled validator", () => {
    const validator = ALL_MESSAGES["control/setState"].params;
    const verdicts = Array.from({ length: INTERPRETED_CHECKS * 2 }, () => [
      validator.check({ state: "Active" }),
      validator.check({ state: "Active", force: true }),
      validator.check("Active"),
    ]);
    expect(new Set(verdicts.map((verdict) => verdict.join()))).toEqual(
      new Set(["true,false,false"]),
    );
  });

  it("names the first mismatch the same way before and after compiling", () => {
    const validator = compileValidator(ALL_MESSAGES["pipeline/play"].params.schema);
    const messages = Array.from({ length: INTERPRETED_CHECKS + 2 }, () => {
      try {
        validator.assert({ pipelineId: -1 }, "pipeline/play");
        return "accepted";
      } catch (error) {
        return (error as Error).message;
      }
    });
    expect(new Set(messages)).toEqual(new Set(["pipeline/play: /pipelineId must be >= 0"]));
  });
});

describe("compileValidator().assert messages (issue 18)", () => {
  const config = compileValidator(AppConfig);
  const message = (value: unknown) => {
    try {
      config.assert(value, "config");
    } catch (error) {
      return (error as Error).message;
    }
    return "accepted";
  };

  it("names an unknown property with the known ones, not the schema's inner words", () => {
    expect(message({ playback: { engin: "gstreamer" } })).toBe(
      'config: /playback: unknown property "engin" (known: engine, clock, sink, videoSink, audioSink)',
    );
    expect(message({ logLvl: "warn" })).toStartWith('config: unknown property "logLvl" (known: ');
  });

  it("spells out an enum's allowed values and the value given", () => {
    expect(message({ playback: { clock: "wallclock" } })).toBe(
      'config: /playback/clock is "wallclock", not one of "realtime", "freerun"',
    );
  });
});

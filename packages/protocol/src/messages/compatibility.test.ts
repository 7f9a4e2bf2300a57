import { describe, expect, it } from "bun:test";
import Type from "typebox";
import { defineEvent, defineMethod } from "../rpc/descriptor.ts";
import { checkCompatibility, formatChanges } from "./compatibility.ts";
import { Empty } from "./primitives.ts";
import { buildSchemaDocuments, stableStringify } from "./schema-export.ts";
import { planExport, type SchemaFile } from "./schema-files.ts";

const Id = Type.Integer({ minimum: 0, maximum: 9 });
const closed = (properties: Parameters<typeof Type.Object>[0]) =>
  Type.Object(properties, { additionalProperties: false });

/** A tiny protocol, version 1: two methods and an event. */
const v1 = {
  demo: {
    play: defineMethod("demo/play", closed({ id: Id }), Empty),
    stop: defineMethod("demo/stop", closed({ id: Id }), Empty),
    state: defineEvent("demo/state", closed({ id: Id, state: Type.Enum(["Idle", "Playing"]) })),
  },
};

function documents(groups: Parameters<typeof buildSchemaDocuments>[0], version: string) {
  return [...buildSchemaDocuments(groups, version).values()];
}

describe("checkCompatibility", () => {
  it("accepts an unchanged protocol", () => {
    const report = checkCompatibility(documents(v1, "1.0.0"), documents(v1, "1.0.0"), "1.0.0");
    expect(report.changes).toEqual([]);
    expect(report.violation).toBe(false);
  });

  it("accepts a new method and a new optional field under the same major", () => {
    const next = {
      demo: {
        ...v1.demo,
        play: defineMethod(
          "demo/play",
          closed({ id: Id, rate: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })) }),
          Empty,
        ),
        pause: defineMethod("demo/pause", closed({ id: Id }), Empty),
      },
    };
    const report = checkCompatibility(documents(v1, "1.0.0"), documents(next, "1.1.0"), "1.1.0");
    expect(report.incompatible).toEqual([]);
    expect(report.violation).toBe(false);
    expect(formatChanges(report.changes)).toBe(
      [
        "compatible   demo/pause: method added",
        'compatible   demo/play params.rate: optional field "rate" added',
      ].join("\n"),
    );
  });

  it("flags a removed method under the same major as a violation", () => {
    const { stop: _removed, ...rest } = v1.demo;
    const report = checkCompatibility(
      documents(v1, "1.0.0"),
      documents({ demo: rest }, "1.0.0"),
      "1.0.0",
    );
    expect(report.violation).toBe(true);
    expect(formatChanges(report.incompatible)).toBe("INCOMPATIBLE demo/stop: method removed");
  });

  it("flags a narrowed event enum under the same major as a violation", () => {
    const next = {
      demo: {
        ...v1.demo,
        state: defineEvent("demo/state", closed({ id: Id, state: Type.Enum(["Idle"]) })),
      },
    };
    const report = checkCompatibility(documents(v1, "1.0.0"), documents(next, "1.2.0"), "1.2.0");
    expect(report.violation).toBe(true);
    expect(formatChanges(report.incompatible)).toBe(
      'INCOMPATIBLE demo/state payload.state: value "Playing" no longer accepted',
    );
  });

  it("allows an incompatible change once the major version is raised", () => {
    const { stop: _removed, ...rest } = v1.demo;
    const report = checkCompatibility(
      documents(v1, "1.4.2"),
      documents({ demo: rest }, "2.0.0"),
      "2.0.0",
    );
    expect(report.incompatible).toHaveLength(1);
    expect(report.committedMajor).toBe(1);
    expect(report.currentMajor).toBe(2);
    expect(report.violation).toBe(false);
  });

  it("flags a method turned into an event", () => {
    const next = { demo: { ...v1.demo, stop: defineEvent("demo/stop", closed({ id: Id })) } };
    const report = checkCompatibility(documents(v1, "1.0.0"), documents(next, "1.0.0"), "1.0.0");
    expect(formatChanges(report.incompatible)).toBe(
      "INCOMPATIBLE demo/stop: changed from method to event",
    );
  });

  it("does not care which document a message lives in", () => {
    const regrouped = {
      a: { play: v1.demo.play },
      b: { stop: v1.demo.stop, state: v1.demo.state },
    };
    const report = checkCompatibility(
      documents(v1, "1.0.0"),
      documents(regrouped, "1.0.0"),
      "1.0.0",
    );
    expect(report.changes).toEqual([]);
  });

  it("has nothing to compare against before the first export", () => {
    const report = checkCompatibility([], documents(v1, "1.0.0"), "1.0.0");
    expect(report.committedMajor).toBeUndefined();
    expect(report.violation).toBe(false);
  });
});

describe("planExport", () => {
  const current = buildSchemaDocuments(v1, "1.0.0");
  const asCommitted = (docs: typeof current): Map<string, SchemaFile> =>
    new Map(
      [...docs].map(([name, document]) => [name, { text: stableStringify(document), document }]),
    );

  it("has nothing to do when the committed files are what the code exports", () => {
    const plan = planExport(asCommitted(current), current, "1.0.0");
    expect(plan.outdated).toEqual([]);
    expect(plan.stale).toEqual([]);
  });

  it("lists missing, changed and stale files", () => {
    const committed = asCommitted(buildSchemaDocuments({ old: v1.demo }, "1.0.0"));
    const plan = planExport(committed, current, "1.0.0");
    expect(plan.outdated).toEqual(["demo.json"]);
    expect(plan.stale).toEqual(["old.json"]);
    expect(plan.report.changes).toEqual([]);
  });
});

describe("stableStringify", () => {
  it("sorts object keys, keeps array order, indents by 2 and ends with a newline", () => {
    expect(stableStringify({ b: 1, a: { d: [3, 1], c: null } })).toBe(
      '{\n  "a": {\n    "c": null,\n    "d": [\n      3,\n      1\n    ]\n  },\n  "b": 1\n}\n',
    );
  });

  it("renders the same documents to the same bytes every time", () => {
    const once = [...buildSchemaDocuments().values()].map(stableStringify);
    const twice = [...buildSchemaDocuments().values()].map(stableStringify);
    expect(twice).toEqual(once);
  });
});

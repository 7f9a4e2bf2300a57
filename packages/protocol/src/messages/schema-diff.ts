import type { Json, JsonSchema } from "./schema-export.ts";

/**
 * Classifies the difference between two JSON Schemas (the subset TypeBox emits) as compatible
 * or incompatible changes. The rule is the reader's: a change is compatible when the new schema
 * accepts every value the old one accepted (added optional field, added enum value, widened
 * bound, opened object), incompatible otherwise (removed or renamed field, optional → required,
 * narrowed type/enum/bound, changed pattern, closed object). A keyword the classifier does not
 * understand counts as incompatible when it changes: the classifier never guesses in favour.
 *
 * Pure functions over plain JSON; see `compatibility.ts` for messages and versions.
 */

/** One classified difference. */
export interface SchemaChange {
  /** Where, e.g. `pipeline/play params.pipelineId` (`[]` = array items, `.*` = extra fields). */
  path: string;
  /** True when every value the old schema accepted is still accepted. */
  compatible: boolean;
  /** What changed, naming the old and new values. */
  description: string;
}

type SchemaObject = { [key: string]: Json };

const ANNOTATIONS = new Set([
  "$comment",
  "$id",
  "$schema",
  "title",
  "description",
  "examples",
  "default",
  "deprecated",
  "readOnly",
  "writeOnly",
]);

const UNDERSTOOD = new Set([
  "type",
  "const",
  "anyOf",
  "enum",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "minProperties",
  "maxProperties",
  "pattern",
  "format",
  "items",
  "uniqueItems",
  "properties",
  "required",
  "additionalProperties",
  "patternProperties",
]);

const show = (value: unknown): string => (value === undefined ? "none" : JSON.stringify(value));

function isObject(value: unknown): value is SchemaObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Deep equality of two JSON values (object key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, i) => jsonEqual(item, b[i]))
    );
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length &&
    keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]))
  );
}

/** Drops annotations; `true`/`false` stay booleans. */
function normalise(schema: JsonSchema | Json | undefined): SchemaObject | boolean {
  if (schema === undefined || schema === true) return true;
  if (!isObject(schema)) return false;
  const out: SchemaObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (!ANNOTATIONS.has(key)) out[key] = value;
  }
  return Object.keys(out).length === 0 ? true : out;
}

/** The alternatives of a schema: `anyOf` and `enum` become one variant per branch/value. */
function variants(schema: SchemaObject): SchemaObject[] {
  const { anyOf, enum: values, ...rest } = schema;
  if (Array.isArray(anyOf)) {
    return anyOf.flatMap((branch) => {
      const merged = normalise(isObject(branch) ? { ...rest, ...branch } : branch);
      // A `false` branch accepts nothing and adds nothing to the union.
      if (typeof merged === "boolean") return merged ? [rest] : [];
      return variants(merged);
    });
  }
  if (Array.isArray(values)) return values.map((value) => ({ ...rest, const: value }));
  return [schema];
}

/** Compares two schemas at `path`; an empty list means they are equivalent. */
export function diffSchemas(
  before: JsonSchema | Json | undefined,
  after: JsonSchema | Json | undefined,
  path = "",
): SchemaChange[] {
  const b = normalise(before);
  const a = normalise(after);
  if (jsonEqual(b, a)) return [];
  if (a === true) return [{ path, compatible: true, description: "now accepts any value" }];
  if (b === false) return [{ path, compatible: true, description: "accepted nothing before" }];
  if (a === false) return [{ path, compatible: false, description: "now accepts no value" }];
  if (b === true) {
    return [{ path, compatible: false, description: `was unconstrained, now ${show(a)}` }];
  }
  const bv = variants(b);
  const av = variants(a);
  if (bv.length > 1 || av.length > 1) return diffVariants(bv, av, path);
  return diffSingle(b, a, path);
}

const incompatibleCount = (changes: SchemaChange[]): number =>
  changes.filter((change) => !change.compatible).length;

/**
 * The const-valued properties of an object branch (`type="client_event"`): how a branch of a
 * discriminated union is recognised after a change. Undefined for other branches.
 */
function discriminant(variant: SchemaObject): string | undefined {
  if (!isObject(variant.properties)) return undefined;
  const parts = Object.entries(variant.properties)
    .filter(([, schema]) => isObject(schema) && "const" in schema)
    .map(([key, schema]) => `${key}=${show((schema as SchemaObject).const)}`)
    .sort();
  return parts.length === 0 ? undefined : parts.join(",");
}

function describeBranch(variant: SchemaObject): string {
  const key = discriminant(variant);
  if (key !== undefined) return `union branch ${key}`;
  const text = show(variant);
  return `union branch ${text.length > 80 ? `${text.slice(0, 77)}...` : text}`;
}

function diffVariants(bv: SchemaObject[], av: SchemaObject[], path: string): SchemaChange[] {
  const changes: SchemaChange[] = [];
  const push = (list: SchemaChange[]) => {
    for (const change of list) changes.push({ ...change, path: path + change.path });
  };
  const used = new Set<number>();
  for (const variant of bv) {
    const candidates = av.map((candidate, index) => ({
      index,
      changes: diffSchemas(variant, candidate),
    }));
    candidates.sort(
      (x, y) =>
        incompatibleCount(x.changes) - incompatibleCount(y.changes) ||
        x.changes.length - y.changes.length,
    );
    const best = candidates[0];
    const key = discriminant(variant);
    const sameBranch =
      key === undefined
        ? undefined
        : candidates.find((candidate) => discriminant(av[candidate.index] ?? {}) === key);
    if (best !== undefined && incompatibleCount(best.changes) === 0) {
      used.add(best.index);
      push(best.changes);
    } else if ("const" in variant) {
      changes.push({
        path,
        compatible: false,
        description: `value ${show(variant.const)} no longer accepted`,
      });
    } else if (sameBranch !== undefined) {
      // The branch is still there (same discriminant) but changed incompatibly.
      used.add(sameBranch.index);
      push(sameBranch.changes);
    } else {
      changes.push({
        path,
        compatible: false,
        description: `${describeBranch(variant)} no longer accepted`,
      });
      // Without a discriminant, the closest branch's differences say what went wrong.
      if (key === undefined) push((best?.changes ?? []).filter((change) => !change.compatible));
    }
  }
  av.forEach((variant, index) => {
    if (used.has(index)) return;
    changes.push({
      path,
      compatible: true,
      description:
        "const" in variant
          ? `value ${show(variant.const)} now accepted`
          : `${describeBranch(variant)} added`,
    });
  });
  return changes;
}

function typesOf(schema: SchemaObject): string[] | undefined {
  const type = schema.type;
  if (typeof type === "string") return [type];
  if (Array.isArray(type)) return type.filter((t): t is string => typeof t === "string");
  return undefined;
}

/** The JSON Schema type of a JSON value (`integer` for whole numbers). */
function jsonType(value: Json | undefined): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function diffSingle(b: SchemaObject, a: SchemaObject, path: string): SchemaChange[] {
  const changes: SchemaChange[] = [];
  const add = (compatible: boolean, description: string, at = path) =>
    changes.push({ path: at, compatible, description });

  const bt = typesOf(b) ?? ("const" in b ? [jsonType(b.const)] : undefined);
  const at = typesOf(a) ?? ("const" in a ? [jsonType(a.const)] : undefined);
  if (at !== undefined) {
    const covers = (t: string) => at.includes(t) || (t === "integer" && at.includes("number"));
    if (bt === undefined) add(false, `type restricted to ${show(at)}`);
    else if (!bt.every(covers)) {
      add(false, `type changed from ${show(bt)} to ${show(at)}`);
      return changes;
    } else if (!at.every((t) => bt.includes(t))) {
      add(true, `type widened from ${show(bt)} to ${show(at)}`);
    }
  } else if (bt !== undefined) add(true, `type no longer restricted (was ${show(bt)})`);

  if ("const" in b) {
    if (!("const" in a)) add(true, `no longer fixed to ${show(b.const)}`);
    else if (!jsonEqual(a.const, b.const)) {
      add(false, `value changed from ${show(b.const)} to ${show(a.const)}`);
    }
  } else if ("const" in a) add(false, `now fixed to ${show(a.const)}`);

  diffBound(b, a, "minimum", "exclusiveMinimum", 1, add);
  diffBound(b, a, "maximum", "exclusiveMaximum", -1, add);
  for (const [min, max] of [
    ["minLength", "maxLength"],
    ["minItems", "maxItems"],
    ["minProperties", "maxProperties"],
  ] as const) {
    diffBound(b, a, min, undefined, 1, add);
    diffBound(b, a, max, undefined, -1, add);
  }
  diffMultipleOf(b, a, add);
  for (const keyword of ["pattern", "format"] as const) {
    if (jsonEqual(b[keyword], a[keyword])) continue;
    if (a[keyword] === undefined) add(true, `${keyword} ${show(b[keyword])} removed`);
    else add(false, `${keyword} changed from ${show(b[keyword])} to ${show(a[keyword])}`);
  }
  if (a.uniqueItems === true && b.uniqueItems !== true) add(false, "items must now be unique");
  if (b.uniqueItems === true && a.uniqueItems !== true) add(true, "items need not be unique");
  if ("items" in a || "items" in b) changes.push(...diffSchemas(b.items, a.items, `${path}[]`));

  diffObject(b, a, path, changes);

  for (const key of new Set([...Object.keys(b), ...Object.keys(a)])) {
    if (UNDERSTOOD.has(key) || jsonEqual(b[key], a[key])) continue;
    add(false, `keyword "${key}" changed from ${show(b[key])} to ${show(a[key])} (not understood)`);
  }
  return changes;
}

type Add = (compatible: boolean, description: string, at?: string) => void;

/**
 * Compares a lower (`direction` 1) or upper (-1) bound, with its optional exclusive form
 * (a bound `x` exclusive is stricter than `x` inclusive).
 */
function diffBound(
  b: SchemaObject,
  a: SchemaObject,
  inclusive: string,
  exclusive: string | undefined,
  direction: 1 | -1,
  add: Add,
): void {
  const bound = (s: SchemaObject): { value: number; strict: boolean } | undefined => {
    const candidates: { value: number; strict: boolean }[] = [];
    if (typeof s[inclusive] === "number") candidates.push({ value: s[inclusive], strict: false });
    if (exclusive !== undefined && typeof s[exclusive] === "number") {
      candidates.push({ value: s[exclusive], strict: true });
    }
    // The tighter of the two applies.
    return candidates.sort(
      (x, y) => direction * (y.value - x.value) || Number(y.strict) - Number(x.strict),
    )[0];
  };
  const before = bound(b);
  const after = bound(a);
  if (jsonEqual(before, after)) return;
  const text = (x: typeof before) =>
    x === undefined ? "none" : `${x.strict ? "exclusive " : ""}${x.value}`;
  const narrower =
    after !== undefined &&
    (before === undefined ||
      direction * (after.value - before.value) > 0 ||
      (after.value === before.value && after.strict && !before.strict));
  const verb = narrower ? "narrowed" : "widened";
  add(!narrower, `${inclusive} ${verb} from ${text(before)} to ${text(after)}`);
}

function diffMultipleOf(b: SchemaObject, a: SchemaObject, add: Add): void {
  const before = b.multipleOf;
  const after = a.multipleOf;
  if (jsonEqual(before, after)) return;
  const divides =
    typeof after !== "number" || (typeof before === "number" && Number.isInteger(before / after));
  add(divides, `multipleOf changed from ${show(before)} to ${show(after)}`);
}

function diffObject(b: SchemaObject, a: SchemaObject, path: string, changes: SchemaChange[]): void {
  const bp = isObject(b.properties) ? b.properties : {};
  const ap = isObject(a.properties) ? a.properties : {};
  const breq = new Set(Array.isArray(b.required) ? b.required : []);
  const areq = new Set(Array.isArray(a.required) ? a.required : []);
  const bExtra = b.additionalProperties;
  const add = (compatible: boolean, description: string, at: string) =>
    changes.push({ path: at, compatible, description });

  for (const key of Object.keys(bp)) {
    const at = `${path}.${key}`;
    if (!Object.hasOwn(ap, key)) add(false, `field "${key}" removed`, at);
    else changes.push(...diffSchemas(bp[key], ap[key], at));
    if (breq.has(key) && !areq.has(key) && Object.hasOwn(ap, key)) {
      add(true, `field "${key}" became optional`, at);
    }
  }
  for (const key of areq) {
    if (typeof key !== "string" || breq.has(key)) continue;
    const at = `${path}.${key}`;
    if (Object.hasOwn(bp, key)) add(false, `optional field "${key}" became required`, at);
    else add(false, `required field "${key}" added`, at);
  }
  for (const key of Object.keys(ap)) {
    if (Object.hasOwn(bp, key) || areq.has(key)) continue;
    const at = `${path}.${key}`;
    if (bExtra === false) add(true, `optional field "${key}" added`, at);
    // The old schema let any value through under this name; the new one constrains it.
    else changes.push(...diffSchemas(bExtra ?? true, ap[key], at));
  }

  const bpp = isObject(b.patternProperties) ? b.patternProperties : {};
  const app = isObject(a.patternProperties) ? a.patternProperties : {};
  for (const pattern of Object.keys(bpp)) {
    const at = `${path}[/${pattern}/]`;
    if (!Object.hasOwn(app, pattern))
      add(false, `keys matching /${pattern}/ no longer declared`, at);
    else changes.push(...diffSchemas(bpp[pattern], app[pattern], at));
  }
  for (const pattern of Object.keys(app)) {
    if (Object.hasOwn(bpp, pattern)) continue;
    const at = `${path}[/${pattern}/]`;
    add(bExtra === false, `keys matching /${pattern}/ now declared`, at);
  }

  if (!("additionalProperties" in b) && !("additionalProperties" in a)) return;
  const aExtra = a.additionalProperties;
  const at = `${path}.*`;
  if (aExtra === false && bExtra !== false)
    add(false, "object closed: extra fields now rejected", at);
  else if (bExtra === false && aExtra !== false)
    add(true, "object opened: extra fields accepted", at);
  else changes.push(...diffSchemas(bExtra, aExtra, at));
}

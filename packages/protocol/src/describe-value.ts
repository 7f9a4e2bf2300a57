/** Characters of a {@link describeValue} text (longer ones end in `...`). */
export const DESCRIBE_MAX_LENGTH = 80;

/** Nesting levels {@link describeValue} descends into; deeper arrays and objects read `[…]`, `{…}`. */
export const DESCRIBE_MAX_DEPTH = 4;

/** Elements or properties shown per array or object before `…`. */
const MAX_ENTRIES = 8;

/**
 * A short printable form of any value for error messages: JSON-like, at most
 * {@link DESCRIBE_MAX_LENGTH} characters. The work is bounded whatever the value (a peer may send
 * 60,000 nested arrays or a megabyte string): it descends at most {@link DESCRIBE_MAX_DEPTH}
 * levels, looks at a few entries of each, stops once the text is long enough, and never throws
 * (getters, proxies and cycles included).
 */
export function describeValue(value: unknown): string {
  const out: string[] = [];
  const budget = { left: DESCRIBE_MAX_LENGTH + 1 };
  try {
    write(value, 0, out, budget, new Set());
  } catch {
    out.push("<unprintable>");
  }
  const text = out.join("");
  return text.length > DESCRIBE_MAX_LENGTH ? `${text.slice(0, DESCRIBE_MAX_LENGTH - 3)}...` : text;
}

interface Budget {
  left: number;
}

function emit(out: string[], budget: Budget, text: string): void {
  // Only what can still be shown is kept: a huge string costs its first characters only.
  const kept = text.length > budget.left ? text.slice(0, budget.left) : text;
  out.push(kept);
  budget.left -= kept.length;
}

function write(
  value: unknown,
  depth: number,
  out: string[],
  budget: Budget,
  seen: Set<object>,
): void {
  if (budget.left <= 0) return;
  switch (typeof value) {
    case "string":
      emit(out, budget, JSON.stringify(value.slice(0, budget.left)));
      return;
    case "number":
    case "boolean":
      emit(out, budget, String(value));
      return;
    case "bigint":
      emit(out, budget, `${value}n`);
      return;
    case "undefined":
      emit(out, budget, "undefined");
      return;
    case "symbol":
      emit(out, budget, value.description === undefined ? "Symbol()" : "Symbol(…)");
      return;
    case "function":
      emit(out, budget, "[function]");
      return;
  }
  if (value === null) {
    emit(out, budget, "null");
    return;
  }
  const object = value as object;
  const isArray = Array.isArray(object);
  if (object instanceof Date) {
    emit(out, budget, Number.isNaN(object.getTime()) ? "Invalid Date" : object.toISOString());
    return;
  }
  if (ArrayBuffer.isView(object)) {
    emit(out, budget, `<${object.constructor?.name ?? "view"} ${object.byteLength} bytes>`);
    return;
  }
  if (seen.has(object)) {
    emit(out, budget, "<cycle>");
    return;
  }
  if (depth >= DESCRIBE_MAX_DEPTH) {
    emit(out, budget, isArray ? "[…]" : "{…}");
    return;
  }
  seen.add(object);
  if (isArray) {
    const array = object as unknown[];
    emit(out, budget, "[");
    const shown = Math.min(array.length, MAX_ENTRIES);
    for (let i = 0; i < shown && budget.left > 0; i++) {
      if (i > 0) emit(out, budget, ",");
      write(array[i], depth + 1, out, budget, seen);
    }
    if (array.length > shown) emit(out, budget, ",…");
    emit(out, budget, "]");
  } else {
    emit(out, budget, "{");
    let count = 0;
    // for..in stops early; Object.keys would list every property of a huge object first.
    for (const key in object) {
      if (!Object.hasOwn(object, key)) continue;
      if (count === MAX_ENTRIES || budget.left <= 0) {
        emit(out, budget, ",…");
        break;
      }
      if (count > 0) emit(out, budget, ",");
      emit(out, budget, `${JSON.stringify(key.slice(0, budget.left))}:`);
      write((object as Record<string, unknown>)[key], depth + 1, out, budget, seen);
      count++;
    }
    emit(out, budget, "}");
  }
  seen.delete(object);
}

/**
 * The line pino writes for the plainest call, `logger.info("message")` or
 * `logger.info({ state: "Inactive" }, "message")` with fields that are all strings, finite
 * numbers, booleans, null or undefined, written without pino: loading pino costs a session
 * server about 30 ms of CPU and 5 MiB, and the lines of a start and of an idle spell are all
 * this plain (BENCHMARKS.md, lifecycle). Byte for byte pino's (`logger.test.ts` holds the two
 * together). Undefined for any other call (an error, a nested object, a printf-style message,
 * a key pino treats specially, what looks like an HTTP request): pino writes those.
 *
 * `prefix` is what pino writes after the time: its bindings, e.g. `,"pid":7,"name":"x"`.
 */
export function plainLogLine(
  level: number,
  time: number,
  prefix: string,
  args: readonly unknown[],
): string | undefined {
  let fields: unknown;
  let message: unknown;
  if (args.length === 1) [message] = args;
  else if (args.length === 2) [fields, message] = args;
  else return undefined;
  if (typeof message === "object" && message !== null && fields === undefined) {
    fields = message;
    message = undefined;
  }
  if (message !== undefined && (typeof message !== "string" || message.includes("%"))) {
    return undefined;
  }
  let properties = "";
  if (fields !== undefined) {
    if (typeof fields !== "object" || fields === null) return undefined;
    if (Object.getPrototypeOf(fields) !== Object.prototype) return undefined;
    // pino rewrites what looks like an HTTP request.
    const { method, headers, socket } = fields as Record<string, unknown>;
    if (method && headers && socket) return undefined;
    for (const [key, value] of Object.entries(fields)) {
      if (SPECIAL_KEYS.has(key)) return undefined;
      const written = plainValue(value);
      if (written === null) return undefined;
      if (written !== undefined) properties += `,${JSON.stringify(key)}:${written}`;
    }
  }
  const text = message === undefined ? "" : `,"msg":${JSON.stringify(message)}`;
  return `{"level":${level},"time":${time}${prefix}${properties}${text}}\n`;
}

/** The bindings prefix of {@link plainLogLine} (pino's "chindings"); undefined when not plain. */
export function plainBindings(bindings: Readonly<Record<string, unknown>>): string | undefined {
  let prefix = "";
  for (const [key, value] of Object.entries(bindings)) {
    // Keys pino leaves out of its bindings.
    if (["level", "serializers", "formatters", "customLevels"].includes(key)) return undefined;
    const written = plainValue(value);
    if (written === null) return undefined;
    if (written !== undefined) prefix += `,${JSON.stringify(key)}:${written}`;
  }
  return prefix;
}

/** Keys pino gives a meaning: the message, its own fields, errors. */
const SPECIAL_KEYS = new Set(["msg", "level", "time", "err", "error"]);

/** A field value as pino writes it; undefined when pino leaves it out, null when not plain. */
function plainValue(value: unknown): string | undefined | null {
  switch (typeof value) {
    case "undefined":
      return undefined;
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return String(value);
    case "number":
      return Number.isFinite(value) ? String(value) : null;
    default:
      return value === null ? "null" : null;
  }
}

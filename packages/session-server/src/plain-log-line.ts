/**
 * The line pino writes for the plainest call, `logger.info("message")` or
 * `logger.info({ state: "Inactive" }, "message")` with fields that are all strings, finite
 * numbers, booleans, null or undefined, written without pino: loading pino costs a session
 * server about 30 ms of CPU and 5 MiB, and the lines of a start and of an idle spell are all
 * this plain (BENCHMARKS.md, lifecycle). Byte for byte pino's (`plain-log-line.test.ts` holds
 * the two together). Undefined for any other call (an error, a nested object, a printf-style message,
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
    const written = plainProperties(fields as Record<string, unknown>, SPECIAL_KEYS);
    if (written === undefined) return undefined;
    properties = written;
  }
  const text = message === undefined ? "" : `,"msg":${JSON.stringify(message)}`;
  return `{"level":${level},"time":${time}${prefix}${properties}${text}}\n`;
}

/** The bindings prefix of {@link plainLogLine} (pino's "chindings"); undefined when not plain. */
export function plainBindings(bindings: Readonly<Record<string, unknown>>): string | undefined {
  return plainProperties(bindings, DROPPED_BINDINGS);
}

/** Keys pino gives a meaning in a line's fields: the message, its own fields, errors. */
const SPECIAL_KEYS: ReadonlySet<string> = new Set(["msg", "level", "time", "err", "error"]);

/** Keys pino leaves out of its bindings. */
const DROPPED_BINDINGS: ReadonlySet<string> = new Set([
  "level",
  "serializers",
  "formatters",
  "customLevels",
]);

/** `,"key":value` for each property as pino writes it; undefined when one is `refused` or not plain. */
function plainProperties(
  record: Readonly<Record<string, unknown>>,
  refused: ReadonlySet<string>,
): string | undefined {
  let written = "";
  for (const [key, value] of Object.entries(record)) {
    if (refused.has(key)) return undefined;
    const plain = plainValue(value);
    if (plain === null) return undefined;
    if (plain !== undefined) written += `,${JSON.stringify(key)}:${plain}`;
  }
  return written;
}

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

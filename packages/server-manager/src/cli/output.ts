import type { ApplicationInfo, MonitorMessage, RialtoError } from "@rialto/protocol";

/**
 * How `rialtoctl` prints: one JSON object per line with `--json`, short text lines otherwise.
 * Errors always go to stderr as one line; with `--json` they also go to stdout as
 * `{"error":{"code","message"}}` so that scripts read one stream.
 */
export class CliOutput {
  readonly #json: boolean;
  readonly #write: (text: string) => void;
  readonly #writeError: (text: string) => void;

  constructor(
    json: boolean,
    write: (text: string) => void = (text) => process.stdout.write(text),
    writeError: (text: string) => void = (text) => process.stderr.write(text),
  ) {
    this.#json = json;
    this.#write = write;
    this.#writeError = writeError;
  }

  /** Prints one record: `value` as JSON, or `text` for people. */
  record(value: object, text: string): void {
    this.#write(`${this.#json ? JSON.stringify(value) : text}\n`);
  }

  /** Prints `ls`: one record per app (a header line for people). */
  applications(applications: readonly ApplicationInfo[]): void {
    if (!this.#json)
      this.#write(`${"APP".padEnd(24)} ${"STATE".padEnd(13)} ${"PID".padEnd(8)} SOCKET\n`);
    for (const app of applications) {
      const text = `${app.appId.padEnd(24)} ${app.state.padEnd(13)} ${String(app.pid ?? "-").padEnd(8)} ${app.socketPath}`;
      this.record(app, text);
    }
  }

  /** Prints one monitor message. */
  monitor(message: MonitorMessage): void {
    this.record(message, describeMonitorMessage(message));
  }

  /** Prints a failure as one line. */
  error(error: RialtoError): void {
    const line = error.message.split("\n")[0] ?? "";
    this.#writeError(`rialtoctl: ${error.code}: ${line}\n`);
    if (this.#json)
      this.#write(`${JSON.stringify({ error: { code: error.code, message: line } })}\n`);
  }
}

/** One monitor message as a line of text, e.g. `client_event app1 state_changed Active`. */
export function describeMonitorMessage(message: MonitorMessage): string {
  switch (message.type) {
    case "client_state":
      return `client_state ${message.appId} ${message.state} ${message.isStarted ? "started" : "stopped"}`;
    case "client_state_end":
      return `client_state_end ${message.count}`;
    case "client_event":
      return `client_event ${message.appId} ${message.event}${message.state === undefined ? "" : ` ${message.state}`}`;
  }
}

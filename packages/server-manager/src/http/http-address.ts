import { isIP } from "node:net";
import { RialtoError } from "@rialto/protocol";

/** Where the web monitor listens. */
export interface HttpAddress {
  /** An IPv4 or IPv6 address (no brackets). */
  hostname: string;
  /** 0 picks a free port (the daemon prints the one it got). */
  port: number;
}

/** Whether `hostname` is a loopback address (127.0.0.0/8 or ::1). */
export function isLoopback(hostname: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname) || hostname === "::1";
}

/**
 * Parses `--http`: `PORT` (on 127.0.0.1), `ADDRESS:PORT` or `[IPv6]:PORT`. A non-loopback
 * address is refused unless `allowRemote` (`--http-allow-remote`): the monitor shows every
 * app and has no TLS. Throws INVALID_ARGUMENT naming the value.
 */
export function parseHttpAddress(text: string, allowRemote: boolean): HttpAddress {
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[0-9.]+):)?(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (match === null || port > 65_535) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `--http must be PORT, ADDRESS:PORT or [IPv6]:PORT (port 0 .. 65535), got "${text}"`,
    );
  }
  const hostname = (match[1] ?? "127.0.0.1").replace(/^\[|\]$/g, "");
  if (isIP(hostname) === 0) {
    throw new RialtoError("INVALID_ARGUMENT", `--http address "${hostname}" is not an IP address`);
  }
  if (!isLoopback(hostname) && !allowRemote) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `--http ${text} is not a loopback address; add --http-allow-remote to serve the monitor beyond this machine`,
    );
  }
  return { hostname, port };
}

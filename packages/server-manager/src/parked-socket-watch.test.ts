import { afterEach, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OwnedSocket } from "@rialto/shm";
import { ParkedSocketWatch } from "./parked-socket-watch.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** A listening socket nobody accepts on, as a parked app's is. */
function parkedSocket(name: string): OwnedSocket {
  const dir = mkdtempSync(join(tmpdir(), "parked-watch-"));
  const socket = OwnedSocket.bind(join(dir, name), { type: "stream", mode: 0o600 });
  cleanups.push(() => {
    socket.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return socket;
}

/** Connects a client to `socket` (it waits in the backlog); closed after the test. */
function knock(socket: OwnedSocket): void {
  const client = connect(socket.path);
  client.on("error", () => {});
  cleanups.push(() => client.destroy());
}

/** A watch whose reports are collected; closed after the test. */
function startWatch() {
  const reports: number[][] = [];
  const failures: string[] = [];
  let notify = () => {};
  const watch = new ParkedSocketWatch({
    onPending: (fds) => {
      reports.push([...fds]);
      notify();
    },
    onFailed: (message) => failures.push(message),
  });
  cleanups.push(() => watch.close());
  const nextReport = () =>
    new Promise<number[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no report within 5 s")), 5000);
      notify = () => {
        clearTimeout(timer);
        resolve(reports.at(-1) ?? []);
      };
    });
  return { watch, reports, failures, nextReport };
}

describe("ParkedSocketWatch", () => {
  it("reports the parked socket a client connects to, once, and again when watched again", async () => {
    const quiet = parkedSocket("quiet.sock");
    const knocked = parkedSocket("knocked.sock");
    const { watch, reports, failures, nextReport } = startWatch();
    watch.watch([quiet.fd, knocked.fd]);

    const first = nextReport();
    knock(knocked);
    expect(await first).toEqual([knocked.fd]);

    // Still waiting in the backlog, but reported once: not again until watched again.
    const second = nextReport();
    watch.watch([quiet.fd, knocked.fd]);
    expect(await second).toEqual([knocked.fd]);
    expect(reports).toEqual([[knocked.fd], [knocked.fd]]);
    expect(failures).toEqual([]);
    // The connection is still there for the session server to accept.
    expect(knocked.hasPendingConnection).toBe(true);
  });

  it("waits on nothing after watch([]), then on what it is given", async () => {
    const socket = parkedSocket("later.sock");
    const { watch, reports, nextReport } = startWatch();
    watch.watch([]);
    knock(socket);
    // Not watched: nothing reported while a check of the backlog shows the client waiting.
    expect(socket.hasPendingConnection).toBe(true);
    const report = nextReport();
    watch.watch([socket.fd]);
    expect(await report).toEqual([socket.fd]);
    expect(reports).toHaveLength(1);
  });
});

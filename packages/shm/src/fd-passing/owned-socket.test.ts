import { describe, expect, it } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ShmError } from "../errors.ts";
import { F_DUPFD_CLOEXEC, libc, SOCK_STREAM } from "../libc.ts";
import { errorOf } from "../test-support/shm-error-of.ts";
import { tempDirPerTest } from "../test-support/temp-dir.ts";
import { FdChannel } from "./fd-channel.ts";
import { FdListener } from "./fd-listener.ts";
import { OwnedSocket } from "./owned-socket.ts";

const temp = tempDirPerTest("shm-owned-");
const socketPath = () => join(temp.dir, "app.sock");

describe("OwnedSocket", () => {
  it("binds a stream socket with the mode and a lock file, and removes both on close", () => {
    const socket = OwnedSocket.bind(socketPath(), { type: "stream", mode: 0o640, lock: true });
    expect(statSync(socketPath()).isSocket()).toBe(true);
    expect(statSync(socketPath()).mode & 0o777).toBe(0o640);
    expect(existsSync(`${socketPath()}.lock`)).toBe(true);
    expect(libc.socketType(socket.fd)).toBe(SOCK_STREAM);
    socket.close();
    expect(existsSync(socketPath())).toBe(false);
    expect(existsSync(`${socketPath()}.lock`)).toBe(false);
  });

  it("refuses a path whose lock another owner holds, and leaves that owner's socket alone", () => {
    using first = OwnedSocket.bind(socketPath(), { type: "stream", lock: true });
    const error = errorOf(() => OwnedSocket.bind(socketPath(), { type: "stream", lock: true }));
    expect((error as ShmError).code).toBe("ADDRESS_IN_USE");
    expect(statSync(socketPath()).ino).toBeGreaterThan(0);
    expect(first.closed).toBe(false);
    expect(existsSync(`${socketPath()}.lock`)).toBe(true);
  });

  it("tells whether a connection waits in the backlog", async () => {
    using socket = OwnedSocket.bind(socketPath(), { type: "stream" });
    expect(socket.hasPendingConnection).toBe(false);
    const client = await Bun.connect({ unix: socketPath(), socket: { data() {} } });
    expect(socket.hasPendingConnection).toBe(true);
    const accepted = libc.accept(socket.fd);
    expect(accepted).toBeNumber();
    expect(socket.hasPendingConnection).toBe(false);
    client.end();
    libc.close(accepted as number);
  });

  it("queues connections while nobody accepts, so a client's connect is not refused", async () => {
    using socket = OwnedSocket.bind(socketPath(), { type: "stream" });
    // Nobody calls accept: the kernel completes the connect into the backlog.
    const client = await Bun.connect({ unix: socketPath(), socket: { data() {} } });
    expect(client.readyState).toBe(1);
    client.end();
    expect(socket.closed).toBe(false);
  });

  it("hands a seqpacket listener to another holder that accepts on it without owning the path", () => {
    using owned = OwnedSocket.bind(socketPath(), { type: "seqpacket" });
    using peer = FdChannel.connect(socketPath());
    const adopted = FdListener.adopt(libc.fcntl(owned.fd, F_DUPFD_CLOEXEC, 0), socketPath());
    const [accepted] = adopted.acceptPending();
    expect(accepted).toBeDefined();
    accepted?.close();
    adopted.close();
    // The adopter closed its fd; the owner's socket file stays.
    expect(existsSync(socketPath())).toBe(true);
    expect(peer.fd).toBeGreaterThan(0);
  });
});

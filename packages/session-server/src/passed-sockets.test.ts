import { describe, expect, it } from "bun:test";
import { LISTENING_FDS_ENV } from "@rialto/protocol";
import { closeFd, FdChannel } from "@rialto/shm";
import { receivePassedSockets } from "./passed-sockets.ts";

describe("receivePassedSockets", () => {
  it("takes inherited sockets from the environment, once, without reading the fd channel", () => {
    const env: Record<string, string | undefined> = { [LISTENING_FDS_ENV]: "5,6" };
    // An fd number that is no channel: it must not be read.
    expect(receivePassedSockets(-1, env)).toEqual({ rpc: 5, sideChannel: 6 });
    expect(env[LISTENING_FDS_ENV]).toBeUndefined();
  });

  it.each(["5", "5,6,7", "5,x", "1,2", "", "5,-6"])("refuses %p with PROTOCOL_ERROR", (value) => {
    expect(() => receivePassedSockets(-1, { [LISTENING_FDS_ENV]: value })).toThrow(
      expect.objectContaining({ code: "PROTOCOL_ERROR" }),
    );
  });

  it("otherwise takes the two sockets the manager sent on the fd channel, and closes it", () => {
    const [manager, server] = FdChannel.pair();
    const [a, b] = FdChannel.pair();
    try {
      manager.sendFds([a.fd, b.fd]);
      const sockets = receivePassedSockets(server.fd, {});
      expect(sockets.rpc).toBeGreaterThan(2);
      expect(sockets.sideChannel).toBeGreaterThan(2);
      closeFd(sockets.rpc);
      closeFd(sockets.sideChannel);
    } finally {
      manager.close();
      a.close();
      b.close();
    }
  });

  it("fails with PROTOCOL_ERROR when the fd channel holds no record", () => {
    const [manager, server] = FdChannel.pair();
    try {
      expect(() => receivePassedSockets(server.fd, {})).toThrow(
        expect.objectContaining({ code: "PROTOCOL_ERROR" }),
      );
    } finally {
      manager.close();
    }
  });
});

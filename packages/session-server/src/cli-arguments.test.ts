import { describe, expect, it } from "bun:test";
import { RialtoError } from "@rialto/protocol";
import { CONTROL_CHANNEL_FD, defaultControlSocketPath, parseArguments } from "./cli-arguments.ts";

describe("parseArguments", () => {
  it("uses fd 3 and level info without arguments", () => {
    expect(parseArguments([], {})).toEqual({
      control: { kind: "fd", fd: CONTROL_CHANNEL_FD },
      logLevel: "info",
      help: false,
    });
  });

  it("stays on fd 3 when RIALTO_CONTROL_SOCKET is merely inherited (no --app-id)", () => {
    expect(parseArguments([], { RIALTO_CONTROL_SOCKET: "/run/c.sock" }).control).toEqual({
      kind: "fd",
      fd: 3,
    });
  });

  it("joins the daemon with --app-id, the socket from the flag, the env, or the runtime dir", () => {
    expect(parseArguments(["--app-id", "a", "--control-socket", "/x.sock"], {}).control).toEqual({
      kind: "joined",
      appId: "a",
      socketPath: "/x.sock",
    });
    expect(parseArguments(["--app-id", "a"], { RIALTO_CONTROL_SOCKET: "/e.sock" }).control).toEqual(
      {
        kind: "joined",
        appId: "a",
        socketPath: "/e.sock",
      },
    );
    expect(parseArguments(["--app-id", "a"], { XDG_RUNTIME_DIR: "/run/user/7" }).control).toEqual({
      kind: "joined",
      appId: "a",
      socketPath: "/run/user/7/rialto/control.sock",
    });
  });

  it("falls back to /tmp/rialto-<uid> without XDG_RUNTIME_DIR", () => {
    expect(defaultControlSocketPath({})).toBe(`/tmp/rialto-${process.getuid?.()}/control.sock`);
  });

  it.each([
    [["--app-id", "../escape"], "--app-id"],
    [["--log-level", "loud"], "--log-level"],
    [["--control-socket", "/x.sock"], "--app-id"],
    [["--bogus"], "bogus"],
    [["positional"], "positional"],
  ])("refuses %p with INVALID_ARGUMENT naming %p", (argv, named) => {
    let error: unknown;
    try {
      parseArguments(argv, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RialtoError);
    expect((error as RialtoError).code).toBe("INVALID_ARGUMENT");
    expect((error as RialtoError).message).toContain(named);
  });
});

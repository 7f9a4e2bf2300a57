import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { existsSync, ftruncateSync, statSync } from "node:fs";
import { DEFAULT_RESOURCES, RialtoError, SessionMethods, sideChannelPath } from "@rialto/protocol";
import { computeAvBufferLayout, HANDOUT_SEALS } from "@rialto/shm";
import { AV_MEMFD_NAME, avMemorySize } from "./av-memory.ts";
import { PROCESS_TEST_TIMEOUT_MS } from "./test-support/async-queue.ts";
import { SessionServerProcess } from "./test-support/session-server-process.ts";
import { TestClient } from "./test-support/test-client.ts";

const memfdName = `/memfd:${AV_MEMFD_NAME}`;

setDefaultTimeout(PROCESS_TEST_TIMEOUT_MS);

describe("session server lifecycle (real process, fd 3 control channel)", () => {
  it("reports Uninitialised as its first message", async () => {
    await using server = await SessionServerProcess.spawn();
    // Step 1: the first message on the control channel, before anything was asked.
    expect(await server.manager.nextState()).toEqual({ state: "Uninitialised" });
    expect(server.manager.states.pending).toHaveLength(0);
  });

  it("configures to Inactive: the socket exists with its mode, a client registers and pings", async () => {
    await using server = await SessionServerProcess.spawn();
    await server.manager.expectState("Uninitialised");

    // Step 1: SetConfiguration is answered at once; the outcome follows as an event.
    expect(await server.configure({ socketPermissions: 0o640 })).toEqual({});
    expect(await server.manager.nextState()).toEqual({ state: "Inactive" });

    // Step 2: the client socket and its fd side channel carry the configured mode.
    const socket = statSync(server.socketPath);
    expect(socket.isSocket()).toBe(true);
    expect(socket.mode & 0o777).toBe(0o640);
    expect(statSync(sideChannelPath(server.socketPath)).mode & 0o777).toBe(0o640);
    expect(server.mappings(memfdName)).toHaveLength(0);

    // Step 3: a client connects, registers, hears Inactive and pings.
    await using client = await TestClient.connect(server.socketPath);
    const registered = await client.register();
    expect(registered.clientId).toBeGreaterThan(0);
    expect(registered.applicationState).toBe("Inactive");
    expect(registered.resources).toEqual(DEFAULT_RESOURCES);
    expect(await client.states.next("first applicationState")).toBe("Inactive");
    expect(await client.peer.call(SessionMethods.ping, { value: 42 })).toEqual({ value: 42 });

    // Step 4: no shared memory while Inactive.
    const refused = await client.peer.call(SessionMethods.getSharedMemory, {}).catch((e) => e);
    expect(refused).toBeInstanceOf(RialtoError);
    expect(refused.code).toBe("INVALID_STATE");
  });

  it("configures to Active: a client maps the sealed AV memfd and cannot shrink or grow it", async () => {
    await using server = await SessionServerProcess.spawn();
    await server.manager.expectState("Uninitialised");
    const resources = { maxPlaybackSessions: 2, supportsWebAudio: true, maxWebAudioPlayers: 3 };

    // Step 1: configure straight to Active; the server maps one AV memfd.
    await server.configure({ targetState: "Active", resources });
    await server.manager.expectState("Active");
    expect(server.mappings(memfdName)).toHaveLength(1);

    // Step 2: a registered client is Running and gets the memfd over the side channel.
    await using client = await TestClient.connect(server.socketPath);
    expect((await client.register()).applicationState).toBe("Running");
    expect(await client.states.next("applicationState")).toBe("Running");
    const { info, memory } = await client.getSharedMemory();
    const layout = computeAvBufferLayout({ maxPlaybackSessions: 2, maxWebAudioPlayers: 3 });
    expect(info.size).toBe(avMemorySize(layout));
    expect(memory.size).toBe(info.size);
    expect(info.playback).toHaveLength(2);
    expect(info.webAudio).toHaveLength(3);
    // SPEC 8 defaults: a playback partition is 7 MiB video + 1 MiB audio + 256 KiB subtitle.
    const MiB = 1024 * 1024;
    expect(info.playback[1]?.video).toEqual({ offset: 8.25 * MiB, length: 7 * MiB });
    expect(info.webAudio[0]?.region).toEqual({ offset: 16.5 * MiB, length: 10 * 1024 });

    // Step 3: what the client writes, it reads back through its own mapping of the same memfd.
    memory.bytes[info.size - 1] = 0x5a;
    expect(memory.bytes[info.size - 1]).toBe(0x5a);

    // Step 4: the memfd is sealed: shrinking or growing it fails with EPERM.
    expect(memory.seals & HANDOUT_SEALS).toBe(HANDOUT_SEALS);
    expect(() => ftruncateSync(memory.fd, 0)).toThrow(expect.objectContaining({ code: "EPERM" }));
    expect(() => ftruncateSync(memory.fd, info.size * 2)).toThrow(
      expect.objectContaining({ code: "EPERM" }),
    );
  });

  it("tells clients Inactive on Active → Inactive and frees its mapping", async () => {
    await using server = await SessionServerProcess.configured({ targetState: "Active" });
    await using client = await TestClient.registered(server.socketPath);
    await client.getSharedMemory();

    // Step 1: SetState(Inactive) → the client hears Inactive, the manager hears Inactive.
    expect(await server.manager.setState("Inactive")).toEqual({});
    expect(await client.states.next("Inactive push")).toBe("Inactive");
    expect(await server.manager.nextState()).toEqual({ state: "Inactive" });

    // Step 2: the server no longer maps or holds the memfd; the client cannot get it again.
    expect(server.mappings(memfdName)).toHaveLength(0);
    expect(server.openFds().filter((target) => target.startsWith(memfdName))).toHaveLength(0);
    const refused = await client.peer.call(SessionMethods.getSharedMemory, {}).catch((e) => e);
    expect(refused.code).toBe("INVALID_STATE");
  });

  it("switches Inactive ↔ Active repeatedly without leaking fds or mappings", async () => {
    await using server = await SessionServerProcess.configured();
    await using client = await TestClient.registered(server.socketPath);

    const cycle = async () => {
      await server.manager.setState("Active");
      await server.manager.expectState("Active");
      expect(server.mappings(memfdName)).toHaveLength(1);
      const { memory } = await client.getSharedMemory();
      memory.close();
      await server.manager.setState("Inactive");
      await server.manager.expectState("Inactive");
    };
    // Step 1: one warm-up cycle, so lazily opened runtime fds are counted in the baseline.
    await cycle();
    const baseline = server.openFds().length;

    // Step 2: five more cycles end where the warm-up ended: no memfd, no mapping, same fd count.
    for (let i = 0; i < 5; i++) await cycle();
    expect(server.openFds().length).toBe(baseline);
    expect(server.openFds().filter((target) => target.startsWith(memfdName))).toHaveLength(0);
    expect(server.mappings(memfdName)).toHaveLength(0);
    expect(client.states.all.filter((state) => state === "Running")).toHaveLength(6);
  });

  it("on NotRunning from Active closes clients, removes its sockets and exits 0 by itself", async () => {
    await using server = await SessionServerProcess.configured({ targetState: "Active" });
    await using client = await TestClient.registered(server.socketPath);

    // Step 1: SetState(NotRunning) is answered, then NotRunning is reported.
    expect(await server.manager.setState("NotRunning")).toEqual({});
    expect(await server.manager.nextState()).toEqual({ state: "NotRunning" });

    // Step 2: the client hears Unknown and its connection closes.
    expect(await client.states.next("Unknown")).toBe("Unknown");
    await client.closed;

    // Step 3: the process exits 0 without being killed; both socket files are gone.
    expect(await server.waitForExit()).toBe(0);
    expect(server.child.signalCode).toBeNull();
    expect(existsSync(server.socketPath)).toBe(false);
    expect(existsSync(sideChannelPath(server.socketPath))).toBe(false);
  });

  it("on NotRunning before configuration (an unused preloaded server) exits 0", async () => {
    await using server = await SessionServerProcess.spawn();
    await server.manager.expectState("Uninitialised");
    await server.manager.setState("NotRunning");
    expect(await server.manager.nextState()).toEqual({ state: "NotRunning" });
    expect(await server.waitForExit()).toBe(0);
  });
});

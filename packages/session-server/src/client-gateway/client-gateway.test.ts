import { describe, expect, it } from "bun:test";
import { PROTOCOL_VERSION, type RialtoError, SessionMethods } from "@rialto/protocol";
import { WAIT_MS, within } from "../test-support/async-queue.ts";
import { InProcessSessionServer } from "../test-support/in-process-session-server.ts";
import { rejectionOf } from "../test-support/rejection.ts";
import { TestClient } from "../test-support/test-client.ts";

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return (await rejectionOf(promise)).code;
}

const configured = InProcessSessionServer.configured;

describe("client gateway: session/* methods", () => {
  it("refuses a client of another protocol major with INCOMPATIBLE_VERSION", async () => {
    await using server = await configured();
    await using client = await TestClient.connect(server.socketPath);
    const major = Number(PROTOCOL_VERSION.split(".")[0]);
    expect(await codeOf(client.register({ protocolVersion: `${major + 1}.0.0` }))).toBe(
      "INCOMPATIBLE_VERSION",
    );
    // Another minor of the same major is fine.
    expect((await client.register({ protocolVersion: `${major}.99.0` })).clientId).toBeGreaterThan(
      0,
    );
  });

  it("gives every connection its own client id and refuses a second register on one", async () => {
    await using server = await configured();
    await using first = await TestClient.connect(server.socketPath);
    await using second = await TestClient.connect(server.socketPath);
    const a = await first.register();
    const b = await second.register();
    expect(a.clientId).not.toBe(b.clientId);
    expect(await codeOf(first.register())).toBe("INVALID_STATE");
  });

  it("answers a client id it does not know with UNKNOWN_CLIENT", async () => {
    await using server = await configured();
    await using client = await TestClient.connect(server.socketPath);
    expect(await codeOf(client.register({ clientId: 12345 }))).toBe("UNKNOWN_CLIENT");
  });

  it("refuses an fdToken no side-channel connection presented", async () => {
    await using server = await configured();
    await using client = await TestClient.connect(server.socketPath, { sideChannel: false });
    expect(await codeOf(client.register({ fdToken: "ab".repeat(16) }))).toBe("INVALID_ARGUMENT");
  });

  it("refuses session methods before registration with INVALID_STATE", async () => {
    await using server = await configured({ targetState: "Active" });
    await using client = await TestClient.connect(server.socketPath);
    expect(await codeOf(client.peer.call(SessionMethods.getSharedMemory, {}))).toBe(
      "INVALID_STATE",
    );
    expect(await codeOf(client.peer.call(SessionMethods.releaseResources, {}))).toBe(
      "INVALID_STATE",
    );
    // Registering afterwards still works on the same connection.
    await client.register();
    expect(await client.peer.call(SessionMethods.ping, { value: -5 })).toEqual({ value: -5 });
  });

  it("cannot hand shared memory to a client registered without a side channel", async () => {
    await using server = await configured({ targetState: "Active" });
    await using client = await TestClient.connect(server.socketPath, { sideChannel: false });
    await client.register();
    const error = await client.peer
      .call(SessionMethods.getSharedMemory, {})
      .catch((e: unknown) => e);
    expect((error as RialtoError).code).toBe("INVALID_STATE");
    expect((error as RialtoError).message).toContain("fdToken");
  });

  it("pushes the application state once after the register reply, then on every change", async () => {
    await using server = await configured();
    await using client = await TestClient.connect(server.socketPath);
    await client.register();
    expect(await client.states.next("first push")).toBe("Inactive");
    await server.manager.setState("Active");
    expect(await client.states.next("Running")).toBe("Running");
    await server.manager.setState("Inactive");
    expect(await client.states.next("Inactive")).toBe("Inactive");
    expect(client.states.all).toEqual(["Inactive", "Running", "Inactive"]);
  });

  it("releases a client's resources on request", async () => {
    await using server = await configured({ targetState: "Active" });
    await using client = await TestClient.registered(server.socketPath);
    const { memory } = await client.getSharedMemory();
    expect(await client.peer.call(SessionMethods.releaseResources, {})).toEqual({});
    memory.close();
    // The memory can be fetched again afterwards (a client going Running again).
    const again = await client.getSharedMemory();
    expect(again.info.fdTag).toBeGreaterThan(0);
  });
});

describe("client gateway: allowedUids (SO_PEERCRED)", () => {
  const ownUid = process.getuid?.() ?? 0;

  it("accepts a client whose uid is listed", async () => {
    await using server = await configured({ allowedUids: [ownUid] });
    await using client = await TestClient.connect(server.socketPath);
    expect((await client.register()).clientId).toBeGreaterThan(0);
  });

  it("refuses a client whose uid is not listed: PERMISSION_DENIED notice, connection closed", async () => {
    const otherUid = ownUid === 65534 ? 65533 : 65534;
    await using server = await configured({ allowedUids: [otherUid] });
    await using client = await TestClient.connect(server.socketPath);
    const notice = await client.errors.next("PERMISSION_DENIED notice");
    expect(notice.code).toBe("PERMISSION_DENIED");
    expect(notice.message).toContain(`uid ${ownUid}`);
    await within(client.closed, "the refused connection to close", WAIT_MS);
  });
});

import { afterEach, describe, expect, it } from "bun:test";
import {
  type KeyStatusesChangedEvent,
  type LicenseRequestEvent,
  MediaKeysEvents,
  MediaKeysMethods,
  SessionMethods,
  type SetConfigurationParams,
} from "@rialto/protocol";
import { encodeBase64Url } from "../keys/index.ts";
import { AsyncQueue } from "../test-support/async-queue.ts";
import { InProcessSessionServer } from "../test-support/in-process-session-server.ts";
import { rejectionOf } from "../test-support/rejection.ts";
import { TestClient } from "../test-support/test-client.ts";

const KID = "3bf72d64a7f23df8027971da1e52fdc2";
const KEY = "a50acccf554d55ba24ca2497be0671c9";
const b64url = (hex: string) => encodeBase64Url(Uint8Array.fromHex(hex));
const LICENSE = JSON.stringify({ keys: [{ kty: "oct", kid: b64url(KID), k: b64url(KEY) }] });
/** A version-1 common-system pssh box naming KID (as ffmpeg writes it). */
const CENC_INIT_DATA = "AAAANHBzc2gBAAAAEHfv7MCyTQKs4zweUuL7SwAAAAE79y1kp/I9+AJ5cdoeUv3CAAAAAA==";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A client of an in-process session server in `targetState`, with its keys events queued. */
async function givenClient(overrides: Partial<SetConfigurationParams> = {}) {
  const server = await InProcessSessionServer.configured({ targetState: "Active", ...overrides });
  cleanups.push(() => server[Symbol.asyncDispose]());
  const connect = async () => {
    const client = await TestClient.registered(server.socketPath);
    cleanups.push(() => client[Symbol.asyncDispose]());
    const requests = new AsyncQueue<LicenseRequestEvent>();
    const statuses = new AsyncQueue<KeyStatusesChangedEvent>();
    client.peer.on(MediaKeysEvents.licenseRequest, (event) => requests.push(event));
    client.peer.on(MediaKeysEvents.keyStatusesChanged, (event) => statuses.push(event));
    return { client, requests, statuses, call: client.peer.call.bind(client.peer) };
  };
  return { server, connect, ...(await connect()) };
}

/** Moves the in-process server to `state` and waits for its report. */
async function setState(server: InProcessSessionServer, state: "Active" | "Inactive") {
  await server.manager.setState(state);
  await server.manager.expectState(state);
}

describe("keys/* over the client sessions", () => {
  it("runs the ClearKey license exchange with cenc init data", async () => {
    const { call, requests, statuses } = await givenClient();
    const { mediaKeysId } = await call(MediaKeysMethods.create, { keySystem: "org.w3.clearkey" });
    const { keySessionId } = await call(MediaKeysMethods.createKeySession, {
      mediaKeysId,
      sessionType: "temporary",
    });
    await call(MediaKeysMethods.generateRequest, {
      keySessionId,
      initDataType: "cenc",
      initData: CENC_INIT_DATA,
    });
    expect(await requests.next("keys/licenseRequest")).toEqual({
      keySessionId,
      message: `{"kids":["${b64url(KID)}"],"type":"temporary"}`,
      messageEncoding: "utf8",
    });
    await call(MediaKeysMethods.updateSession, {
      keySessionId,
      response: Buffer.from(LICENSE).toString("base64"),
      responseEncoding: "base64",
    });
    expect(await statuses.next("keys/keyStatusesChanged")).toEqual({
      keySessionId,
      statuses: [{ keyId: KID, status: "usable" }],
    });
    await call(MediaKeysMethods.closeKeySession, { keySessionId });
    expect((await statuses.next("the statuses after close")).statuses).toEqual([]);
    await call(MediaKeysMethods.removeKeySession, { keySessionId });
    const again = await rejectionOf(call(MediaKeysMethods.closeKeySession, { keySessionId }));
    expect(again.code).toBe("NOT_FOUND");
  });

  it("refuses an unknown key system with NOT_FOUND", async () => {
    const { call } = await givenClient();
    const error = await rejectionOf(
      call(MediaKeysMethods.create, { keySystem: "com.widevine.alpha" }),
    );
    expect([error.code, error.message]).toEqual([
      "NOT_FOUND",
      expect.stringContaining('"com.widevine.alpha" is not supported'),
    ]);
  });

  it("refuses keys/* calls with INVALID_STATE while the app is Inactive", async () => {
    const { call } = await givenClient({ targetState: "Inactive" });
    const error = await rejectionOf(
      call(MediaKeysMethods.create, { keySystem: "org.w3.clearkey" }),
    );
    expect([error.code, error.message]).toEqual([
      "INVALID_STATE",
      '"keys/create": media calls need the app Running (it is Inactive)',
    ]);
    const update = await rejectionOf(
      call(MediaKeysMethods.updateSession, {
        keySessionId: 1,
        response: "{}",
        responseEncoding: "utf8",
      }),
    );
    expect(update.code).toBe("INVALID_STATE");
  });

  it("keeps one client's key sessions out of another client's reach", async () => {
    const app = await givenClient();
    const { mediaKeysId } = await app.call(MediaKeysMethods.create, {
      keySystem: "org.w3.clearkey",
    });
    const { keySessionId } = await app.call(MediaKeysMethods.createKeySession, {
      mediaKeysId,
      sessionType: "temporary",
    });
    const other = await app.connect();
    const error = await rejectionOf(
      other.call(MediaKeysMethods.generateRequest, {
        keySessionId,
        initDataType: "cenc",
        initData: CENC_INIT_DATA,
      }),
    );
    expect(error.code).toBe("NOT_FOUND");
    const mine = await other.call(MediaKeysMethods.create, { keySystem: "org.w3.clearkey" });
    const second = await other.call(MediaKeysMethods.createKeySession, {
      mediaKeysId: mine.mediaKeysId,
      sessionType: "temporary",
    });
    expect(second.keySessionId).not.toBe(keySessionId);
  });

  it("frees a client's MediaKeys on releaseResources and on Inactive: their ids are unknown after", async () => {
    const app = await givenClient();
    const create = async () => {
      const { mediaKeysId } = await app.call(MediaKeysMethods.create, {
        keySystem: "org.w3.clearkey",
      });
      const { keySessionId } = await app.call(MediaKeysMethods.createKeySession, {
        mediaKeysId,
        sessionType: "temporary",
      });
      return { mediaKeysId, keySessionId };
    };
    const expectGone = async ({
      mediaKeysId,
      keySessionId,
    }: {
      mediaKeysId: number;
      keySessionId: number;
    }) => {
      const errors = await Promise.all([
        rejectionOf(
          app.call(MediaKeysMethods.createKeySession, { mediaKeysId, sessionType: "temporary" }),
        ),
        rejectionOf(app.call(MediaKeysMethods.closeKeySession, { keySessionId })),
      ]);
      expect(errors.map((e) => e.code)).toEqual(["NOT_FOUND", "NOT_FOUND"]);
    };

    const released = await create();
    await app.call(SessionMethods.releaseResources, {});
    await expectGone(released);

    const deactivated = await create();
    await setState(app.server, "Inactive");
    await setState(app.server, "Active");
    await expectGone(deactivated);
  });
});

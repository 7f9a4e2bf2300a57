import { describe, expect, it } from "bun:test";
import {
  type KeyStatusesChangedEvent,
  type LicenseRequestEvent,
  MediaKeysEvents,
  MediaKeysMethods,
  RialtoError,
} from "@rialto/protocol";
import { MediaKeys } from "./media-keys.ts";
import { FakeMediaHost } from "./test-support/fake-media-host.ts";

const KID = "3bf72d64a7f23df8027971da1e52fdc2";
const REQUEST = '{"kids":["O_ctZKfyPfgCeXHaHlL9wg"],"type":"temporary"}';

/** A fake server with MediaKeys 7 whose key sessions count from 40; events as the server sends them. */
function givenServer() {
  const host = new FakeMediaHost();
  let nextSession = 40;
  host
    .handle(MediaKeysMethods.create, ({ keySystem }) => {
      if (keySystem !== "org.w3.clearkey") throw new RialtoError("NOT_FOUND", `no ${keySystem}`);
      return { mediaKeysId: 7 };
    })
    .handle(MediaKeysMethods.createKeySession, () => ({ keySessionId: nextSession++ }))
    .handle(MediaKeysMethods.generateRequest, ({ keySessionId }) => {
      host.emit(MediaKeysEvents.licenseRequest, {
        keySessionId,
        message: REQUEST,
        messageEncoding: "utf8",
      });
      return {};
    })
    .handle(MediaKeysMethods.updateSession, ({ keySessionId }) => {
      host.emit(MediaKeysEvents.keyStatusesChanged, {
        keySessionId,
        statuses: [{ keyId: KID, status: "usable" }],
      });
      return {};
    })
    .handle(MediaKeysMethods.closeKeySession, () => ({}))
    .handle(MediaKeysMethods.removeKeySession, () => ({}))
    .handle(MediaKeysMethods.destroy, () => ({}));
  return host;
}

/** Everything one MediaKeys instance reported. */
function recordEvents(mediaKeys: MediaKeys) {
  const requests: LicenseRequestEvent[] = [];
  const statuses: KeyStatusesChangedEvent[] = [];
  const released: number[] = [];
  mediaKeys.on("licenseRequest", (event) => requests.push(event));
  mediaKeys.on("keyStatusesChanged", (event) => statuses.push(event));
  mediaKeys.on("released", ({ mediaKeysId }) => released.push(mediaKeysId));
  return { requests, statuses, released };
}

describe("MediaKeys", () => {
  it("sends init data as base64 and delivers the license request before generateRequest resolves", async () => {
    const host = givenServer();
    const mediaKeys = await MediaKeys.create(host, "org.w3.clearkey");
    const { requests } = recordEvents(mediaKeys);
    const keySessionId = await mediaKeys.createKeySession();
    const pssh = Uint8Array.from([0, 0, 0, 52, 0x70, 0x73, 0x73, 0x68]);
    await mediaKeys.generateRequest(keySessionId, "cenc", pssh);
    expect(requests).toEqual([{ keySessionId, message: REQUEST, messageEncoding: "utf8" }]);
    expect(host.calls.at(-1)).toEqual({
      method: "keys/generateRequest",
      params: { keySessionId, initDataType: "cenc", initData: "AAAANHBzc2g=" },
    });
  });

  it("sends a text license as utf8 and a binary one as base64", async () => {
    const host = givenServer();
    const mediaKeys = await MediaKeys.create(host, "org.w3.clearkey");
    const { statuses } = recordEvents(mediaKeys);
    const keySessionId = await mediaKeys.createKeySession();
    await mediaKeys.updateSession(keySessionId, '{"keys":[]}');
    await mediaKeys.updateSession(keySessionId, new TextEncoder().encode("{}"));
    expect(host.calls.slice(-2).map((call) => call.params)).toEqual([
      { keySessionId, response: '{"keys":[]}', responseEncoding: "utf8" },
      { keySessionId, response: "e30=", responseEncoding: "base64" },
    ]);
    expect(statuses).toHaveLength(2);
  });

  it("takes only the events of its own key sessions", async () => {
    const host = givenServer();
    const first = await MediaKeys.create(host, "org.w3.clearkey");
    const second = await MediaKeys.create(host, "org.w3.clearkey");
    const firstEvents = recordEvents(first);
    const secondEvents = recordEvents(second);
    const session = await second.createKeySession();
    await second.generateRequest(session, "keyids", new Uint8Array([123, 125]));
    expect([firstEvents.requests.length, secondEvents.requests.length]).toEqual([0, 1]);
    await second.removeKeySession(session);
    host.emit(MediaKeysEvents.keyStatusesChanged, { keySessionId: session, statuses: [] });
    expect(secondEvents.statuses).toEqual([]);
    expect(second.keySessionIds).toEqual([]);
  });

  it("rejects with the server's error for an unknown key system", async () => {
    const error = await MediaKeys.create(givenServer(), "com.example.drm").catch((e) => e);
    expect(error).toBeInstanceOf(RialtoError);
    expect(error.code).toBe("NOT_FOUND");
  });

  it("is destroyed once: later calls are INVALID_STATE and its event listeners are gone", async () => {
    const host = givenServer();
    const mediaKeys = await MediaKeys.create(host, "org.w3.clearkey");
    await mediaKeys.destroy();
    await mediaKeys.destroy();
    expect(host.calls.filter((call) => call.method === "keys/destroy")).toHaveLength(1);
    expect(mediaKeys.lifecycle).toBe("destroyed");
    await expect(mediaKeys.createKeySession()).rejects.toMatchObject({
      code: "INVALID_STATE",
      message: "createKeySession: MediaKeys 7 is destroyed",
    });
    expect(host.listenerCount(MediaKeysEvents.licenseRequest)).toBe(0);
  });

  it("counts a destroy the server answers with NOT_FOUND as done", async () => {
    const host = givenServer().handle(MediaKeysMethods.destroy, () => {
      throw new RialtoError("NOT_FOUND", "gone");
    });
    const mediaKeys = await MediaKeys.create(host, "org.w3.clearkey");
    await mediaKeys.destroy();
    expect(mediaKeys.lifecycle).toBe("destroyed");
  });

  it("tells the app when the session server released it", async () => {
    const mediaKeys = await MediaKeys.create(givenServer(), "org.w3.clearkey");
    const { released } = recordEvents(mediaKeys);
    mediaKeys.markReleased();
    mediaKeys.markReleased();
    expect(released).toEqual([7]);
    expect(mediaKeys.lifecycle).toBe("released");
  });
});

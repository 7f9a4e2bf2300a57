import { describe, expect, it } from "bun:test";
import type { KeyStatusesChangedEvent, LicenseRequestEvent } from "@rialto/protocol";
import { rejectionOf } from "../test-support/rejection.ts";
import { encodeBase64Url } from "./key-bytes.ts";
import { CLEAR_KEY_SYSTEM, createMediaKeys } from "./media-keys.ts";

const KID_A = "0123456789abcdef0123456789abcdef";
const KID_B = "fedcba9876543210fedcba9876543210";
const KEY_1 = "11".repeat(16);
const KEY_2 = "22".repeat(16);
const b64url = (hex: string) => encodeBase64Url(Uint8Array.fromHex(hex));
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const keyIds = (...kids: string[]) => json({ kids: kids.map(b64url) });
const license = (...pairs: [kid: string, key: string][]) =>
  json({ keys: pairs.map(([kid, k]) => ({ kty: "oct", kid: b64url(kid), k: b64url(k) })) });

const failure = (run: () => unknown) => rejectionOf(Promise.try(run));

/** A ClearKey MediaKeys that records its events. */
function givenMediaKeys() {
  const licenseRequests: LicenseRequestEvent[] = [];
  const statuses: KeyStatusesChangedEvent[] = [];
  const mediaKeys = createMediaKeys(CLEAR_KEY_SYSTEM, {
    events: {
      licenseRequest: (event) => licenseRequests.push(event),
      keyStatusesChanged: (event) => statuses.push(event),
    },
  });
  return { mediaKeys, licenseRequests, statuses };
}

describe("createMediaKeys", () => {
  it("refuses any key system but org.w3.clearkey with NOT_FOUND", async () => {
    const error = await failure(() => createMediaKeys("com.widevine.alpha"));
    expect([error.code, error.message]).toEqual([
      "NOT_FOUND",
      expect.stringContaining('"com.widevine.alpha" is not supported'),
    ]);
  });

  it("hands out key session ids from the allocator it is given", async () => {
    let next = 40;
    const mediaKeys = createMediaKeys(CLEAR_KEY_SYSTEM, { allocateKeySessionId: () => next++ });
    expect([mediaKeys.createKeySession(), mediaKeys.createKeySession()]).toEqual([40, 41]);
    const reused = createMediaKeys(CLEAR_KEY_SYSTEM, { allocateKeySessionId: () => 1 });
    reused.createKeySession();
    expect((await failure(() => reused.createKeySession())).code).toBe("INTERNAL");
  });
});

describe("a ClearKey key session", () => {
  it("emits the W3C license request for its init data", () => {
    const { mediaKeys, licenseRequests } = givenMediaKeys();
    const session = mediaKeys.createKeySession("temporary");
    const returned = mediaKeys.generateRequest(session, "keyids", keyIds(KID_A, KID_B));
    expect(licenseRequests).toEqual([returned]);
    expect(returned.keySessionId).toBe(session);
    expect(returned.messageEncoding).toBe("utf8");
    expect(JSON.parse(returned.message)).toEqual({
      kids: [b64url(KID_A), b64url(KID_B)],
      type: "temporary",
    });
  });

  it("makes its license's keys usable and findable by key id", () => {
    const { mediaKeys, statuses } = givenMediaKeys();
    const session = mediaKeys.createKeySession();
    mediaKeys.generateRequest(session, "keyids", keyIds(KID_A));
    mediaKeys.updateSession(session, license([KID_A, KEY_1], [KID_B, KEY_2]));
    expect(statuses).toEqual([
      {
        keySessionId: session,
        statuses: [
          { keyId: KID_A, status: "usable" },
          { keyId: KID_B, status: "usable" },
        ],
      },
    ]);
    expect(mediaKeys.findKey(Uint8Array.fromHex(KID_B), session)?.toHex()).toBe(KEY_2);
    expect(mediaKeys.findKey(Uint8Array.fromHex(KID_A))?.toHex()).toBe(KEY_1);
  });

  it("prefers the key of the session a frame names, else the newest session holding the key id", () => {
    const { mediaKeys } = givenMediaKeys();
    const first = mediaKeys.createKeySession();
    const second = mediaKeys.createKeySession();
    for (const [session, key] of [
      [first, KEY_1],
      [second, KEY_2],
    ] as const) {
      mediaKeys.generateRequest(session, "keyids", keyIds(KID_A));
      mediaKeys.updateSession(session, license([KID_A, key]));
    }
    const kid = Uint8Array.fromHex(KID_A);
    expect(mediaKeys.findKey(kid, first)?.toHex()).toBe(KEY_1);
    expect(mediaKeys.findKey(kid, second)?.toHex()).toBe(KEY_2);
    expect(mediaKeys.findKey(kid, 999)?.toHex()).toBe(KEY_2);
    mediaKeys.closeKeySession(second);
    expect(mediaKeys.findKey(kid, second)?.toHex()).toBe(KEY_1);
  });

  it("releases its keys on close, reporting no keys, and is forgotten on remove", async () => {
    const { mediaKeys, statuses } = givenMediaKeys();
    const session = mediaKeys.createKeySession();
    mediaKeys.generateRequest(session, "keyids", keyIds(KID_A));
    mediaKeys.updateSession(session, license([KID_A, KEY_1]));
    mediaKeys.closeKeySession(session);
    mediaKeys.closeKeySession(session);
    expect(statuses.at(-1)).toEqual({ keySessionId: session, statuses: [] });
    expect(statuses.length).toBe(2);
    expect(mediaKeys.findKey(Uint8Array.fromHex(KID_A))).toBeUndefined();
    expect(
      (await failure(() => mediaKeys.updateSession(session, license([KID_A, KEY_1])))).code,
    ).toBe("INVALID_STATE");
    mediaKeys.removeKeySession(session);
    expect(mediaKeys.hasKeySession(session)).toBe(false);
    expect((await failure(() => mediaKeys.closeKeySession(session))).code).toBe("NOT_FOUND");
  });

  it("refuses calls out of order with INVALID_STATE and unknown sessions with NOT_FOUND", async () => {
    const { mediaKeys } = givenMediaKeys();
    const session = mediaKeys.createKeySession();
    const early = await failure(() => mediaKeys.updateSession(session, license([KID_A, KEY_1])));
    expect([early.code, early.message]).toEqual([
      "INVALID_STATE",
      expect.stringContaining("generateRequest first"),
    ]);
    mediaKeys.generateRequest(session, "keyids", keyIds(KID_A));
    expect(
      (await failure(() => mediaKeys.generateRequest(session, "keyids", keyIds(KID_A)))).code,
    ).toBe("INVALID_STATE");
    expect(
      (await failure(() => mediaKeys.generateRequest(77, "keyids", keyIds(KID_A)))).message,
    ).toBe("generateRequest: no key session 77");
  });

  it("keeps its state when init data or a license is refused", async () => {
    const { mediaKeys, licenseRequests, statuses } = givenMediaKeys();
    const session = mediaKeys.createKeySession();
    expect(
      (await failure(() => mediaKeys.generateRequest(session, "cenc", new Uint8Array(7)))).code,
    ).toBe("INVALID_ARGUMENT");
    mediaKeys.generateRequest(session, "keyids", keyIds(KID_A));
    expect(
      (await failure(() => mediaKeys.updateSession(session, json({ keys: [{ kty: "oct" }] }))))
        .code,
    ).toBe("INVALID_ARGUMENT");
    mediaKeys.updateSession(session, license([KID_A, KEY_1]));
    expect([licenseRequests.length, statuses.length]).toEqual([1, 1]);
  });

  it("closes every session when the MediaKeys instance is closed", () => {
    const { mediaKeys } = givenMediaKeys();
    const sessions = [mediaKeys.createKeySession(), mediaKeys.createKeySession()];
    expect(mediaKeys.keySessionIds()).toEqual(sessions);
    mediaKeys.close();
    expect(mediaKeys.keySessionIds()).toEqual([]);
  });
});

import { describe, expect, it } from "bun:test";
import { rejectionOf } from "../test-support/rejection.ts";
import { MediaKeysBook } from "./media-keys-book.ts";
import { bookClient } from "./test-support/book-client.ts";
import {
  base64Url as b64url,
  givenLicensedKeySession,
} from "./test-support/licensed-key-session.ts";

const KID = "0123456789abcdef0123456789abcdef";
const KEY = "11".repeat(16);
const failure = (run: () => unknown) => rejectionOf(Promise.try(run));
const givenLicensedSession = () => givenLicensedKeySession({ kid: KID, key: KEY });

describe("MediaKeysBook", () => {
  it("sends the license request and key statuses to the owning client as events", () => {
    const { owner, keySessionId } = givenLicensedSession();
    expect(owner.sent).toEqual([
      {
        event: "keys/licenseRequest",
        payload: {
          keySessionId,
          message: JSON.stringify({ kids: [b64url(KID)], type: "temporary" }),
          messageEncoding: "utf8",
        },
      },
      {
        event: "keys/keyStatusesChanged",
        payload: { keySessionId, statuses: [{ keyId: KID, status: "usable" }] },
      },
    ]);
  });

  it("refuses key systems other than ClearKey with NOT_FOUND", async () => {
    const error = await failure(() =>
      new MediaKeysBook().create(bookClient(1).client, "com.widevine.alpha"),
    );
    expect(error.code).toBe("NOT_FOUND");
  });

  it("numbers key sessions across every client and MediaKeys from one allocator", () => {
    const book = new MediaKeysBook();
    const ids = [1, 2, 1].map((clientId) => {
      const { client } = bookClient(clientId);
      const mediaKeysId = book.create(client, "org.w3.clearkey");
      return book.createKeySession(client, { mediaKeysId, sessionType: "temporary" });
    });
    expect(new Set(ids).size).toBe(3);
    expect(book.keySessionCount).toBe(3);
  });

  it("answers NOT_FOUND when a client names another client's MediaKeys or key session", async () => {
    const { book, mediaKeysId, keySessionId } = givenLicensedSession();
    const other = bookClient(2).client;
    const errors = await Promise.all([
      failure(() => book.createKeySession(other, { mediaKeysId, sessionType: "temporary" })),
      failure(() => book.holderOf(other, keySessionId, "keys/updateSession")),
      failure(() => book.removeKeySession(other, keySessionId)),
      failure(() => book.destroy(other, mediaKeysId)),
    ]);
    expect(errors.map((e) => e.code)).toEqual(["NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]);
    expect(errors[1]?.message).toBe(
      `"keys/updateSession": client 2 has no key session ${keySessionId}`,
    );
  });

  it("finds a key by the frame's key session id, server-wide, and none for an unknown session", () => {
    const { book, keySessionId } = givenLicensedSession();
    const keyId = Uint8Array.fromHex(KID);
    expect(book.findKey(keyId, keySessionId)?.toHex()).toBe(KEY);
    expect(book.findKey(keyId, keySessionId + 1)).toBeUndefined();
    expect(book.findKey(keyId)).toBeUndefined();
    expect(book.findKey(Uint8Array.fromHex("ff".repeat(16)), keySessionId)).toBeUndefined();
  });

  it("forgets a removed key session: no key, and NOT_FOUND for its id", async () => {
    const { book, owner, keySessionId } = givenLicensedSession();
    book.removeKeySession(owner.client, keySessionId);
    expect(book.findKey(Uint8Array.fromHex(KID), keySessionId)).toBeUndefined();
    expect(book.keySessionCount).toBe(0);
    expect((await failure(() => book.removeKeySession(owner.client, keySessionId))).code).toBe(
      "NOT_FOUND",
    );
  });

  it("releases every MediaKeys of one client with its key sessions, leaving other clients' alone", () => {
    const { book, owner, keySessionId } = givenLicensedSession();
    const other = bookClient(2).client;
    const kept = book.create(other, "org.w3.clearkey");
    book.createKeySession(other, { mediaKeysId: kept, sessionType: "temporary" });
    book.createKeySession(owner.client, {
      mediaKeysId: book.create(owner.client, "org.w3.clearkey"),
      sessionType: "temporary",
    });

    expect(book.releaseClient(owner.client.id)).toEqual({ mediaKeys: 2, keySessions: 2 });
    expect([book.mediaKeysCount, book.keySessionCount]).toEqual([1, 1]);
    expect(book.findKey(Uint8Array.fromHex(KID), keySessionId)).toBeUndefined();
    expect(book.releaseClient(other.id)).toEqual({ mediaKeys: 1, keySessions: 1 });
    expect([book.mediaKeysCount, book.keySessionCount]).toEqual([0, 0]);
  });

  it("tells a client its keys went when its MediaKeys is destroyed, but not once it is released", () => {
    const first = givenLicensedSession();
    first.book.destroy(first.owner.client, first.mediaKeysId);
    expect(first.owner.sent.at(-1)).toEqual({
      event: "keys/keyStatusesChanged",
      payload: { keySessionId: first.keySessionId, statuses: [] },
    });

    const second = givenLicensedSession();
    const before = second.owner.sent.length;
    second.owner.client.markReleased();
    second.book.releaseClient(second.owner.client.id);
    expect(second.owner.sent.length).toBe(before);
  });
});

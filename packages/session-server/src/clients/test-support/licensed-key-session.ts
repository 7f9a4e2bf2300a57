import { encodeBase64Url } from "../../keys/index.ts";
import { MediaKeysBook } from "../media-keys-book.ts";
import { type BookClient, bookClient } from "./book-client.ts";

/** A key id and its AES-128 key, as 32 hex digits each. */
export interface TestKey {
  readonly kid: string;
  readonly key: string;
}

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** 16 bytes given as hex, in the unpadded base64url of W3C ClearKey. */
export const base64Url = (hex: string) => encodeBase64Url(Uint8Array.fromHex(hex));

/**
 * A MediaKeysBook with one ClearKey key session of client 1 that went through the license
 * exchange (`keyids` init data naming `kid`, a JWK set giving `key`).
 */
export function givenLicensedKeySession({ kid, key }: TestKey): {
  book: MediaKeysBook;
  owner: BookClient;
  mediaKeysId: number;
  keySessionId: number;
} {
  const book = new MediaKeysBook();
  const owner = bookClient(1);
  const mediaKeysId = book.create(owner.client, "org.w3.clearkey");
  const keySessionId = book.createKeySession(owner.client, {
    mediaKeysId,
    sessionType: "temporary",
  });
  const mediaKeys = book.holderOf(owner.client, keySessionId, "test");
  mediaKeys.generateRequest(keySessionId, "keyids", json({ kids: [base64Url(kid)] }));
  mediaKeys.updateSession(
    keySessionId,
    json({ keys: [{ kty: "oct", kid: base64Url(kid), k: base64Url(key) }] }),
  );
  return { book, owner, mediaKeysId, keySessionId };
}

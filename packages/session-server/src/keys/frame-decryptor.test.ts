import { describe, expect, it } from "bun:test";
import type { MediaFrame } from "@rialto/shm";
import { givenLicensedKeySession } from "../clients/test-support/licensed-key-session.ts";
import type { FrameDecryptor } from "../media/media-engine.ts";
import { rejectionOf } from "../test-support/rejection.ts";
import { createFrameDecryptor } from "./frame-decryptor.ts";
import { referenceEncrypt } from "./test-support/reference-encryption.ts";

const KID = "3bf72d64a7f23df8027971da1e52fdc2";
const KEY = "a50acccf554d55ba24ca2497be0671c9";
/** A video frame of `clear` encrypted with cenc, 5 clear bytes then the rest, naming `keySessionId`. */
function encryptedFrame(clear: Uint8Array, keySessionId: number): MediaFrame {
  const iv = Uint8Array.fromHex("0102030405060708");
  const subsamples = [{ clearBytes: 5, encryptedBytes: clear.byteLength - 5 }];
  const data = referenceEncrypt(clear, {
    scheme: "cenc",
    key: Uint8Array.fromHex(KEY),
    iv,
    subsamples,
  });
  return {
    kind: "video",
    sourceId: 1,
    timestampNs: 0,
    durationNs: 40_000_000,
    width: 0,
    height: 0,
    data,
    encryption: {
      cipherMode: "cenc",
      keySessionId,
      keyId: Uint8Array.fromHex(KID),
      iv,
      subsamples,
    },
  };
}

describe("createFrameDecryptor", () => {
  it("is the pipeline engine's decrypt hook over the app's MediaKeysBook", () => {
    const { book, keySessionId } = givenLicensedKeySession({ kid: KID, key: KEY });
    const decrypt: FrameDecryptor = createFrameDecryptor(book);
    const clear = Uint8Array.from({ length: 77 }, (_, i) => i);
    const frame = encryptedFrame(clear, keySessionId);
    expect(decrypt(frame)).toEqual(clear);
    const { encryption: _, ...clearFrame } = frame;
    expect(decrypt(clearFrame)).toBe(frame.data);
  });

  it("fails a frame naming a key session the book does not hold with a Decryption NOT_FOUND", async () => {
    const { book, keySessionId } = givenLicensedKeySession({ kid: KID, key: KEY });
    const frame = encryptedFrame(new Uint8Array(32), keySessionId + 1);
    const error = await rejectionOf(Promise.try(() => createFrameDecryptor(book)(frame)));
    expect([error.code, error.details]).toEqual([
      "NOT_FOUND",
      { playbackError: "Decryption", keyId: KID },
    ]);
  });
});

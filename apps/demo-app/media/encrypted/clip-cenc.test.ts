import { describe, expect, it } from "bun:test";
import { join } from "node:path";
import { RialtoError } from "@rialto/protocol";
import { createMediaKeys, decryptSample } from "@rialto/session-server";
import { demuxEncryptedMp4, demuxMp4File, trackChecksum } from "../../src/mp4/index.ts";
import clear from "../clip.json";
import keyFile from "./key.json";

/** A ClearKey MediaKeys holding the clip's key, obtained through the whole license exchange. */
function licensedMediaKeys() {
  const mediaKeys = createMediaKeys("org.w3.clearkey");
  const session = mediaKeys.createKeySession();
  const request = mediaKeys.generateRequest(
    session,
    "cenc",
    Uint8Array.fromBase64(keyFile.cencInitData),
  );
  const license = new TextEncoder().encode(JSON.stringify(keyFile.license));
  const statuses = mediaKeys.updateSession(session, license);
  return { mediaKeys, session, request, statuses };
}

const clearClip = await demuxMp4File(join(import.meta.dir, keyFile.clearFile));
const encryptedPath = join(import.meta.dir, keyFile.file);
const encrypted = demuxEncryptedMp4(await Bun.file(encryptedPath).bytes(), keyFile.file);

describe("the cenc-encrypted demo clip", () => {
  it("gets its key through generateRequest with the pssh of key.json and a JWK-set license", () => {
    const { request, statuses } = licensedMediaKeys();
    expect(JSON.parse(request.message)).toEqual({ ...keyFile.keyIdsInitData, type: "temporary" });
    expect(statuses.statuses).toEqual([{ keyId: keyFile.keyId, status: "usable" }]);
  });

  it("names key.json's key id in every track's tenc and has encrypted samples unlike the clear ones", () => {
    for (const clearTrack of clearClip.tracks) {
      const samples = encrypted.get(clearTrack.id) ?? [];
      expect(samples.length).toBe(clearTrack.samples.length);
      expect(samples.every((s) => s.encryption.keyId.toHex() === keyFile.keyId)).toBe(true);
      const same = samples.filter(
        (s, i) => Buffer.compare(s.data, clearTrack.samples[i]?.data ?? new Uint8Array()) === 0,
      );
      expect(same.length).toBe(0);
    }
  });

  it("decrypts every sample of every track to the clear clip's bytes, matching ffmpeg's checksums", () => {
    const { mediaKeys, session } = licensedMediaKeys();
    for (const expected of clear.tracks) {
      const clearTrack = clearClip.tracks.find((t) => t.id === expected.id);
      const samples = encrypted.get(expected.id) ?? [];
      const decrypted = samples.map(({ data, encryption }) =>
        decryptSample(data, { ...encryption, keySessionId: session }, mediaKeys),
      );
      decrypted.forEach((bytes, index) => {
        expect(Buffer.compare(bytes, clearTrack?.samples[index]?.data ?? new Uint8Array())).toBe(0);
      });
      const timed = decrypted.map((data, index) => ({
        data,
        timestampNs: clearTrack?.samples[index]?.timestampNs ?? 0,
      }));
      expect(trackChecksum(timed)).toBe(expected.sha256);
    }
  });

  it("uses subsamples for the video and whole-sample encryption for the audio", () => {
    const video = clearClip.tracks.find((t) => t.type === "video");
    const audio = clearClip.tracks.find((t) => t.type === "audio");
    const videoSamples = encrypted.get(video?.id ?? -1) ?? [];
    const audioSamples = encrypted.get(audio?.id ?? -1) ?? [];
    expect(videoSamples.every((s) => s.encryption.subsamples.length > 0)).toBe(true);
    expect(audioSamples.every((s) => s.encryption.subsamples.length === 0)).toBe(true);
    expect(videoSamples[0]?.encryption.iv.byteLength).toBe(8);
  });

  it("gives other bytes with a wrong key and NOT_FOUND once the key session is closed", () => {
    const wrong = createMediaKeys("org.w3.clearkey");
    const session = wrong.createKeySession();
    wrong.generateRequest(
      session,
      "keyids",
      new TextEncoder().encode(JSON.stringify(keyFile.keyIdsInitData)),
    );
    const kid = keyFile.license.keys[0]?.kid;
    const wrongLicense = { keys: [{ kty: "oct", kid, k: "AAAAAAAAAAAAAAAAAAAAAA" }] };
    wrong.updateSession(session, new TextEncoder().encode(JSON.stringify(wrongLicense)));
    const audio = clearClip.tracks.find((t) => t.type === "audio");
    const sample = encrypted.get(audio?.id ?? -1)?.[5];
    if (audio === undefined || sample === undefined)
      throw new Error("the clip has no audio sample 5");
    const garbled = decryptSample(sample.data, sample.encryption, wrong);
    expect(Buffer.compare(garbled, audio.samples[5]?.data ?? new Uint8Array())).not.toBe(0);

    wrong.closeKeySession(session);
    const error = (() => {
      try {
        decryptSample(sample.data, sample.encryption, wrong);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(RialtoError);
    expect((error as RialtoError).code).toBe("NOT_FOUND");
  });
});

import { describe, expect, it } from "bun:test";
import { join } from "node:path";
import { RialtoError } from "@rialto/protocol";
import { type Box, createFile, MP4BoxBuffer } from "mp4box";
// The keys module of the session server is not exported from its package root yet.
import {
  createMediaKeys,
  decryptSample,
  type SampleEncryption,
} from "../../../../packages/session-server/src/keys/index.ts";
import { demuxMp4File, trackChecksum } from "../../src/mp4/index.ts";
import clear from "../clip.json";
import keyFile from "./key.json";

/** One sample of the encrypted clip: its bytes and its encryption from `senc`. */
interface EncryptedSample {
  readonly data: Uint8Array;
  readonly encryption: SampleEncryption;
}

function childBoxes(box: Box): Box[] {
  const { boxes, entries } = box as { boxes?: Box[]; entries?: Box[] };
  return [...(boxes ?? []), ...(entries ?? [])];
}

function findBox(root: Box, type: string): Box {
  const stack = [root];
  for (let box = stack.pop(); box !== undefined; box = stack.pop()) {
    if (box.type === type) return box;
    stack.push(...childBoxes(box));
  }
  throw new Error(`no ${type} box under ${root.type}`);
}

/** Reads a `senc` box body (ISO/IEC 23001-7 section 7.2) with the IV size from `tenc`. */
function readSenc(senc: Box, ivSize: number, keyId: Uint8Array) {
  const { data, flags } = senc as unknown as { data: Uint8Array; flags: number };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const count = view.getUint32(0);
  let at = 4;
  const entries: SampleEncryption[] = [];
  for (let index = 0; index < count; index++) {
    const iv = data.slice(at, at + ivSize);
    at += ivSize;
    const subsamples: { clearBytes: number; encryptedBytes: number }[] = [];
    if (flags & 2) {
      const subsampleCount = view.getUint16(at);
      at += 2;
      for (let s = 0; s < subsampleCount; s++) {
        subsamples.push({ clearBytes: view.getUint16(at), encryptedBytes: view.getUint32(at + 2) });
        at += 6;
      }
    }
    entries.push({ cipherMode: "cenc", keyId, iv, subsamples });
  }
  expect(at).toBe(data.byteLength);
  return entries;
}

/** Demuxes the encrypted clip with mp4box: per track id, samples with their senc entries. */
async function demuxEncrypted(path: string): Promise<Map<number, EncryptedSample[]>> {
  const bytes = await Bun.file(path).bytes();
  const file = createFile();
  const buffer = new MP4BoxBuffer(bytes.byteLength);
  new Uint8Array(buffer).set(bytes);
  buffer.fileStart = 0;
  file.appendBuffer(buffer, true);
  file.flush();
  const tracks = new Map<number, EncryptedSample[]>();
  for (const track of file.getInfo().tracks) {
    const trak = file.getTrackById(track.id) as unknown as Box;
    const tenc = findBox(trak, "tenc") as Box & {
      default_Per_Sample_IV_Size: number;
      default_KID: string;
    };
    const keyId = Uint8Array.fromHex(tenc.default_KID.replaceAll("-", ""));
    const entries = readSenc(findBox(trak, "senc"), tenc.default_Per_Sample_IV_Size, keyId);
    const samples = file.getTrackSamplesInfo(track.id);
    expect(entries.length).toBe(samples.length);
    tracks.set(
      track.id,
      samples.map((sample, index) => ({
        data: bytes.subarray(sample.offset, sample.offset + sample.size),
        encryption: entries[index] as SampleEncryption,
      })),
    );
  }
  return tracks;
}

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
const encrypted = await demuxEncrypted(join(import.meta.dir, keyFile.file));

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

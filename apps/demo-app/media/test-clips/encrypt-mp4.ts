// Encrypts a clear MP4 made by ffmpeg with Common Encryption, laid out the way packagers write
// it: encv/enca sample entries with sinf (frma, schm, tenc), senc + saiz + saio per fragment
// (fragmented input, default-base-is-moof; the mfra's tfra offsets moved) or in stbl
// (progressive input with its moov after the mdat, so no chunk offset moves), an optional clear
// lead (the first fragment clear under a second, clear sample entry placed after the encrypted
// one, as Shaka Packager does) and a chosen pssh. ffmpeg 5.1 writes neither cbcs nor valid
// encrypted fragments, so make-test-clips.sh uses this, and checks the progressive outputs with
// ffmpeg's own decryption (-decryption_key), which must give back the clear file's samples.
//
//   bun encrypt-mp4.ts IN OUT --scheme cenc|cbcs [--pattern 2:8] --kid HEX --key HEX
//       [--clear-lead] [--pssh common|playready|none]
//
// Video subsamples: per NAL unit, its length and header byte clear; cbcs protected ranges are
// cut to end in one full block past the last whole pattern (16 * (10k + 1) + a partial block),
// the case where a 2:8 decryptor must leave that block clear. Audio: one subsample (0, size).
import { createCipheriv } from "node:crypto";
import { parseArgs } from "node:util";
import { type Box, BoxCursor, childBoxes, readBoxes } from "../../src/mp4/box-reader.ts";
import { readMp4 } from "../../src/mp4/demux-mp4.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    scheme: { type: "string" },
    pattern: { type: "string", default: "1:9" },
    kid: { type: "string" },
    key: { type: "string" },
    "clear-lead": { type: "boolean", default: false },
    pssh: { type: "string", default: "common" },
  },
});
const [input, output] = positionals;
const scheme = values.scheme;
if (input === undefined || output === undefined || (scheme !== "cenc" && scheme !== "cbcs")) {
  throw new Error("usage: encrypt-mp4.ts IN OUT --scheme cenc|cbcs --kid HEX --key HEX");
}
const kid = Uint8Array.fromHex(values.kid ?? "");
const key = Uint8Array.fromHex(values.key ?? "");
const [crypt, skip] = (scheme === "cbcs" ? values.pattern : "0:0").split(":").map(Number) as [
  number,
  number,
];
const clearLead = values["clear-lead"];
const CONSTANT_IV = Uint8Array.fromHex("0123456789abcdef0123456789abcdef");
const bytes = await Bun.file(input).bytes();

const u32 = (value: number) => {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
};
const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
};
const ascii = (text: string) => new TextEncoder().encode(text);
const box = (type: string, ...payload: Uint8Array[]) => {
  const body = concat(payload);
  return concat([u32(8 + body.byteLength), ascii(type), body]);
};
const fullBox = (type: string, version: number, flags: number, ...payload: Uint8Array[]) =>
  box(type, u32((version << 24) | flags), ...payload);

// ---- the movie box: sample entries become encv/enca (+ a clear one for the clear lead), pssh.
const VIDEO = new Set(["avc1", "avc3", "hvc1", "hev1"]);
const PREFIX: Record<string, number> = { moov: 0, trak: 0, mdia: 0, minf: 0, stbl: 0, stsd: 8 };
const trackKinds = new Map<number, "video" | "audio">();
let currentTrack = 0;

function tenc(): Uint8Array {
  const ivSize = scheme === "cbcs" ? 0 : 8;
  const fields = [new Uint8Array([0, (crypt << 4) | skip, 1, ivSize]), kid];
  if (ivSize === 0) fields.push(new Uint8Array([16]), CONSTANT_IV);
  return fullBox("tenc", scheme === "cbcs" ? 1 : 0, 0, ...fields);
}

function encryptedEntry(entry: Box): Uint8Array {
  const original = bytes.subarray(entry.start, entry.end);
  const encryptedType = VIDEO.has(entry.type) ? "encv" : "enca";
  const sinf = box(
    "sinf",
    box("frma", ascii(entry.type)),
    fullBox("schm", 0, 0, ascii(scheme as string), u32(0x10000)),
    box("schi", tenc()),
  );
  return concat([
    u32(original.byteLength + sinf.byteLength),
    ascii(encryptedType),
    original.subarray(8),
    sinf,
  ]);
}

function psshBox(): Uint8Array[] {
  if (values.pssh === "none") return [];
  if (values.pssh === "playready") {
    const systemId = Uint8Array.fromHex("9a04f07998404286ab92e65be0885f95");
    const data = ascii("<WRMHEADER>not a real PlayReady header</WRMHEADER>");
    return [fullBox("pssh", 0, 0, systemId, u32(data.byteLength), data)];
  }
  const systemId = Uint8Array.fromHex("1077efecc0b24d02ace33c1e52e2fb4b");
  return [fullBox("pssh", 1, 0, systemId, u32(1), kid, u32(0))];
}

function rewrite(b: Box): Uint8Array {
  if (b.type === "tkhd") {
    const c = new BoxCursor(input as string, bytes, b);
    const { version } = c.fullBoxHeader();
    c.skip(version === 1 ? 16 : 8);
    currentTrack = c.u32();
  }
  const prefix = PREFIX[b.type];
  if (prefix === undefined) return bytes.subarray(b.start, b.end);
  const head = bytes.subarray(b.payloadStart, b.payloadStart + prefix);
  const children = childBoxes(input as string, bytes, b, prefix);
  let parts: Uint8Array[];
  if (b.type === "stsd") {
    const entries = children.map((entry) => {
      trackKinds.set(currentTrack, VIDEO.has(entry.type) ? "video" : "audio");
      const encrypted = encryptedEntry(entry);
      // Shaka Packager's order: the encrypted entry first (ffmpeg applies encryption info to
      // sample description 1 only), the clear one of the lead second.
      return clearLead ? [encrypted, bytes.subarray(entry.start, entry.end)] : [encrypted];
    });
    const count = entries.flat().length;
    parts = [head.subarray(0, 4), u32(count), ...entries.flat()];
  } else {
    parts = [head, ...children.map(rewrite)];
    if (b.type === "moov") parts.push(...psshBox());
    if (b.type === "stbl" && progressive) parts.push(...progressiveAuxiliary(currentTrack));
  }
  const body = concat(parts);
  return concat([u32(8 + body.byteLength), ascii(b.type), body]);
}

// ---- samples: encryption in place, subsample maps.
interface Subsample {
  clear: number;
  encrypted: number;
}

function cbcsProtectedLength(length: number): number {
  // 16 * (10k + 1) + partial: the last full block starts a new pattern alone.
  const blocks = Math.floor(length / 16);
  const single = blocks - ((blocks - 1) % 10);
  return single >= 1 && single * 16 <= length ? single * 16 + (length % 16) : length;
}

function subsamplesOf(data: Uint8Array, kind: "video" | "audio"): Subsample[] {
  if (kind === "audio") return [{ clear: 0, encrypted: data.byteLength }];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const subsamples: Subsample[] = [];
  for (let at = 0; at + 4 <= data.byteLength; ) {
    const nal = view.getUint32(at);
    const payload = Math.max(0, nal - 1);
    const protectedBytes = scheme === "cbcs" ? cbcsProtectedLength(payload) : payload;
    subsamples.push({ clear: 5, encrypted: protectedBytes });
    if (payload > protectedBytes)
      subsamples.push({ clear: payload - protectedBytes, encrypted: 0 });
    at += 4 + nal;
  }
  return subsamples;
}

function encryptSample(sample: Uint8Array, subsamples: readonly Subsample[], iv: Uint8Array) {
  const ranges: [number, number][] = [];
  let at = 0;
  for (const { clear, encrypted } of subsamples) {
    at += clear;
    if (encrypted > 0) ranges.push([at, at + encrypted]);
    at += encrypted;
  }
  if (scheme === "cenc") {
    const cipher = createCipheriv("aes-128-ctr", key, concat([iv, new Uint8Array(8)]));
    for (const [start, end] of ranges)
      sample.set(cipher.update(sample.subarray(start, end)), start);
    return;
  }
  for (const [start, end] of ranges) {
    const cipher = createCipheriv("aes-128-cbc", key, CONSTANT_IV).setAutoPadding(false);
    const fullEnd = start + Math.floor((end - start) / 16) * 16;
    // Shaka Packager's rule: a last group of fewer than `crypt` blocks stays clear.
    for (let block = start; block + crypt * 16 <= fullEnd; block += (crypt + skip) * 16) {
      const run = sample.subarray(block, block + crypt * 16);
      run.set(cipher.update(run));
    }
  }
}

// ---- the fragments: senc/saiz/saio before the truns, data offsets moved by what the moof grew.
interface TrafPlan {
  readonly parts: Uint8Array[];
  readonly samples: { at: number; size: number; subsamples: Subsample[]; iv: Uint8Array }[];
  readonly kind: "video" | "audio";
  readonly encrypted: boolean;
}

let sampleNumber = 0;
let fragmentNumber = 0;

function planTraf(moof: Box, traf: Box): TrafPlan {
  const boxes = childBoxes(input as string, bytes, traf);
  const tfhdBox = boxes.find((b) => b.type === "tfhd") as Box;
  const c = new BoxCursor(input as string, bytes, tfhdBox);
  const { flags } = c.fullBoxHeader();
  const trackId = c.u32();
  if (!(flags & 0x20000) || flags & 0x3) throw new Error("expected default-base-is-moof tfhd");
  if (flags & 0x8) c.skip(4);
  const defaultSize = flags & 0x10 ? c.u32() : 0;
  const kind = trackKinds.get(trackId) ?? "audio";
  const encrypted = !(clearLead && fragmentNumber === 0);
  const parts: Uint8Array[] = [];
  const samples: TrafPlan["samples"] = [];
  let offset = moof.start;
  for (const b of boxes) {
    let raw = bytes.subarray(b.start, b.end);
    if (b.type === "tfhd" && clearLead && !encrypted) {
      // sample_description_index 2: the clear entry of the lead (1 is the encrypted one).
      raw = concat([
        u32(b.end - b.start + 4),
        ascii("tfhd"),
        u32(flags | 0x2),
        u32(trackId),
        u32(2),
        bytes.subarray(b.payloadStart + 8, b.end),
      ]);
    }
    if (b.type === "trun") {
      const t = new BoxCursor(input as string, bytes, b);
      const { flags: trunFlags } = t.fullBoxHeader();
      const count = t.u32();
      if (!(trunFlags & 0x1)) throw new Error("expected a trun with a data offset");
      offset = moof.start + t.i32();
      if (trunFlags & 0x4) t.skip(4);
      for (let i = 0; i < count; i++) {
        if (trunFlags & 0x100) t.skip(4);
        const sampleSize = trunFlags & 0x200 ? t.u32() : defaultSize;
        if (trunFlags & 0x400) t.skip(4);
        if (trunFlags & 0x800) t.skip(4);
        const data = bytes.subarray(offset, offset + sampleSize);
        const iv = new Uint8Array(8);
        new DataView(iv.buffer).setUint32(4, ++sampleNumber);
        samples.push({ at: offset, size: sampleSize, subsamples: subsamplesOf(data, kind), iv });
        offset += sampleSize;
      }
    }
    parts.push(raw);
  }
  return { parts, samples, kind, encrypted };
}

function auxiliaryBoxes(plan: TrafPlan, sencOffsetInMoof: number): Uint8Array[] {
  if (!plan.encrypted) return [];
  const ivSize = scheme === "cbcs" ? 0 : 8;
  const entries = plan.samples.map(({ subsamples, iv }) =>
    concat([
      ivSize === 0 ? new Uint8Array() : iv,
      new Uint8Array([subsamples.length >> 8, subsamples.length & 0xff]),
      ...subsamples.map(({ clear, encrypted }) =>
        concat([new Uint8Array([clear >> 8, clear & 0xff]), u32(encrypted)]),
      ),
    ]),
  );
  const senc = fullBox("senc", 0, 2, u32(entries.length), ...entries);
  const saiz = fullBox(
    "saiz",
    0,
    0,
    new Uint8Array([0]),
    u32(entries.length),
    new Uint8Array(entries.map((e) => e.byteLength)),
  );
  // saio: the first entry, relative to the moof (the base of default-base-is-moof).
  const saio = fullBox("saio", 0, 0, u32(1), u32(sencOffsetInMoof + 16));
  return [senc, saiz, saio];
}

function rewriteMoof(moof: Box): { moof: Uint8Array; plans: TrafPlan[] } {
  const children = childBoxes(input as string, bytes, moof);
  const plans = children.filter((b) => b.type === "traf").map((traf) => planTraf(moof, traf));
  // Sizes first (saio needs where senc lands), then the boxes.
  const build = (grow: number) => {
    const parts: Uint8Array[] = [];
    let at = 8;
    let plan = 0;
    for (const child of children) {
      if (child.type !== "traf") {
        parts.push(bytes.subarray(child.start, child.end));
        at += child.end - child.start;
        continue;
      }
      const p = plans[plan++] as TrafPlan;
      // Packagers put senc/saiz/saio before the truns (ffmpeg's reader needs them there).
      const firstTrun = p.parts.findIndex((part) => part[4] === 0x74 && part[5] === 0x72);
      const head = concat(p.parts.slice(0, firstTrun));
      const runs = concat(p.parts.slice(firstTrun));
      let trunAt = 0;
      for (const part of p.parts.slice(firstTrun)) {
        const view = new DataView(runs.buffer, trunAt);
        view.setInt32(16, view.getInt32(16) + grow);
        trunAt += part.byteLength;
      }
      const sencAt = at + 8 + head.byteLength;
      const traf = box("traf", head, ...auxiliaryBoxes(p, sencAt), runs);
      parts.push(traf);
      at += traf.byteLength;
    }
    return box("moof", ...parts);
  };
  const grow = build(0).byteLength - (moof.end - moof.start);
  return { moof: build(grow), plans };
}

// ---- a progressive file (moov after mdat, so no chunk offset moves): senc/saiz/saio in stbl.
const topLevel = readBoxes(input, bytes, 0, bytes.byteLength);
const progressive = !topLevel.some((b) => b.type === "moof");
const progressiveTracks = new Map<number, TrafPlan["samples"]>();
if (progressive) {
  const types = topLevel.map((b) => b.type);
  if (types.indexOf("moov") < types.indexOf("mdat")) {
    throw new Error("a progressive input needs its moov after the mdat (no faststart)");
  }
  for (const track of readMp4(bytes, input).tracks) {
    progressiveTracks.set(
      track.id,
      track.samples.map(({ data }) => {
        const iv = new Uint8Array(8);
        new DataView(iv.buffer).setUint32(4, ++sampleNumber);
        return {
          at: data.byteOffset,
          size: data.byteLength,
          subsamples: subsamplesOf(data, track.type),
          iv,
        };
      }),
    );
  }
}

function progressiveAuxiliary(trackId: number): Uint8Array[] {
  const samples = progressiveTracks.get(trackId) ?? [];
  const plan: TrafPlan = { parts: [], samples, kind: "video", encrypted: true };
  return auxiliaryBoxes(plan, 0);
}

/** Points every stbl's saio at its senc's first entry (absolute offsets in a moov). */
function patchSaio(file: Uint8Array, box: Box): void {
  const children = childBoxes(output as string, file, box, PREFIX[box.type] ?? 0);
  const senc = children.find((b) => b.type === "senc");
  const saio = children.find((b) => b.type === "saio");
  if (senc !== undefined && saio !== undefined) {
    new DataView(file.buffer).setUint32(saio.payloadStart + 8, senc.payloadStart + 8);
  }
  for (const child of children)
    if (child.type in PREFIX && child.type !== "stsd") patchSaio(file, child);
}

/** Where each moof of the input moved: input offset → bytes added before it. */
const moofShifts = new Map<number, number>();

/**
 * The movie fragment random access box with every `tfra` moof offset moved to where the moof
 * now is (ffmpeg builds its fragment index from it; without one, it pairs senc entries with the
 * samples of the wrong fragment).
 */
function rewriteMfra(mfra: Box): Uint8Array {
  const copy = bytes.slice(mfra.start, mfra.end);
  const view = new DataView(copy.buffer);
  for (const tfra of childBoxes(input as string, bytes, mfra).filter((b) => b.type === "tfra")) {
    const c = new BoxCursor(input as string, bytes, tfra);
    const { version } = c.fullBoxHeader();
    c.skip(4);
    const sizes = c.u32();
    const count = c.u32();
    const fieldBytes = ((sizes >> 4) & 3) + ((sizes >> 2) & 3) + (sizes & 3) + 3;
    for (let i = 0; i < count; i++) {
      c.skip(version === 1 ? 8 : 4);
      const at = c.at - mfra.start;
      const offset = version === 1 ? c.u64() : c.u32();
      const moved = offset + (moofShifts.get(offset) ?? 0);
      if (version === 1) view.setBigUint64(at, BigInt(moved));
      else view.setUint32(at, moved);
      c.skip(fieldBytes);
    }
  }
  return copy;
}

const out: Uint8Array[] = [];
const pendingWrites: { at: number; data: Uint8Array }[] = [];
let shift = 0;
for (const top of topLevel) {
  if (top.type === "moov") {
    const moov = rewrite(top);
    shift += moov.byteLength - (top.end - top.start);
    out.push(moov);
  } else if (top.type === "moof") {
    moofShifts.set(top.start, shift);
    const { moof, plans } = rewriteMoof(top);
    shift += moof.byteLength - (top.end - top.start);
    out.push(moof);
    for (const plan of plans) {
      if (!plan.encrypted) continue;
      for (const s of plan.samples) {
        const copy = bytes.slice(s.at, s.at + s.size);
        encryptSample(copy, s.subsamples, s.iv);
        pendingWrites.push({ at: s.at + shift, data: copy });
      }
    }
    fragmentNumber++;
  } else if (top.type === "mfra") {
    out.push(rewriteMfra(top));
  } else {
    out.push(bytes.subarray(top.start, top.end));
  }
}
for (const samples of progressiveTracks.values()) {
  for (const s of samples) {
    const copy = bytes.slice(s.at, s.at + s.size);
    encryptSample(copy, s.subsamples, s.iv);
    pendingWrites.push({ at: s.at, data: copy });
  }
}
const file = concat(out);
for (const { at, data } of pendingWrites) file.set(data, at);
if (progressive) {
  const moov = readBoxes(output, file, 0, file.byteLength).find((b) => b.type === "moov");
  if (moov !== undefined) patchSaio(file, moov);
}
await Bun.write(output, file);

import { parseAudioSpecificConfig } from "./audio-specific-config.ts";
import { type Box, BoxCursor, childBoxes, findBox } from "./box-reader.ts";
import { readTenc, type TrackEncryptionDefaults } from "./encryption-info.ts";

/** How a sample description is protected (`sinf`: `frma`, `schm`, `tenc`). */
export interface ProtectionScheme {
  /** `cenc` or `cbcs` (other schemes are reported as unsupported). */
  readonly scheme: string;
  readonly defaults: TrackEncryptionDefaults;
}

/** A playable codec of a sample description: what `attachSource` needs. */
export interface CodecDescription {
  /** RFC 6381 codecs string, e.g. `avc1.64001f`, `mp4a.40.2`, `opus`, `ac-3`. */
  readonly codec: string;
  /** Elementary-stream MIME type (see the demo README's table). */
  readonly mimeType: string;
  /** avcC / hvcC record, AudioSpecificConfig, OpusHead, or the dac3 / dec3 payload. */
  readonly codecData: Uint8Array;
  /** Audio: output rate and channels as the decoder sees them (from the codec config). */
  readonly sampleRate?: number;
  readonly channels?: number;
}

/** One sample description (`stsd` entry), its protection and codec. */
export interface SampleEntry {
  /** The entry's four-character code as stored (`encv`, `enca` when protected). */
  readonly format: string;
  /** The codec's own code: `frma` of a protected entry, else `format`. */
  readonly originalFormat: string;
  readonly protection?: ProtectionScheme;
  /** The codec, or why it cannot be played (e.g. `codec "c608" is not audio or video`). */
  readonly codec: CodecDescription | { readonly unsupported: string };
  /** Video: width and height of the entry, pixels. */
  readonly width?: number;
  readonly height?: number;
}

const VISUAL = new Set(["avc1", "avc3", "hvc1", "hev1", "encv"]);
const AUDIO = new Set(["mp4a", "Opus", "ac-3", "ec-3", "enca"]);

const hex2 = (value: number) => value.toString(16).padStart(2, "0");

function avcCodec(format: string, avcC: Uint8Array): string {
  return `${format}.${hex2(avcC[1] ?? 0)}${hex2(avcC[2] ?? 0)}${hex2(avcC[3] ?? 0)}`;
}

/** `hvc1.1.6.L93.B0` style (ISO/IEC 14496-15 annex E). */
function hevcCodec(format: string, hvcC: Uint8Array): string {
  const first = hvcC[1] ?? 0;
  const space = ["", "A", "B", "C"][first >> 6] ?? "";
  const compat = new DataView(hvcC.buffer, hvcC.byteOffset + 2, 4).getUint32(0);
  let reversed = 0;
  for (let i = 0; i < 32; i++) reversed = (reversed << 1) | ((compat >>> i) & 1);
  const constraints = [...hvcC.subarray(6, 12)];
  while (constraints.length > 0 && constraints.at(-1) === 0) constraints.pop();
  const tier = first & 0x20 ? "H" : "L";
  const parts = [
    format,
    `${space}${first & 0x1f}`,
    (reversed >>> 0).toString(16),
    `${tier}${hvcC[12] ?? 0}`,
  ];
  return [...parts, ...constraints.map((b) => b.toString(16).toUpperCase())].join(".");
}

/** The AudioSpecificConfig in an `esds` box (ES_Descriptor → DecoderConfig → DecSpecificInfo). */
function esdsConfig(c: BoxCursor): { objectType: number; config: Uint8Array | undefined } {
  c.fullBoxHeader();
  const descriptor = () => {
    const tag = c.u8();
    let size = 0;
    for (let i = 0; i < 4; i++) {
      const byte = c.u8();
      size = (size << 7) | (byte & 0x7f);
      if (!(byte & 0x80)) break;
    }
    return { tag, size, end: c.at + size };
  };
  const es = descriptor();
  if (es.tag !== 3) throw c.invalid(`descriptor tag ${es.tag} where ES_Descriptor (3) belongs`);
  c.skip(2);
  const flags = c.u8();
  if (flags & 0x80) c.skip(2);
  if (flags & 0x40) c.skip(c.u8());
  if (flags & 0x20) c.skip(2);
  const decoderConfig = descriptor();
  if (decoderConfig.tag !== 4) return { objectType: 0, config: undefined };
  const objectType = c.u8();
  c.skip(12);
  if (c.at >= decoderConfig.end) return { objectType, config: undefined };
  const specific = descriptor();
  if (specific.tag !== 5) return { objectType, config: undefined };
  return { objectType, config: c.bytesView(specific.size) };
}

const AC3_CHANNELS = [2, 1, 2, 3, 3, 4, 4, 5];
const AC3_RATES = [48000, 44100, 32000];

function audioCodec(
  file: string,
  bytes: Uint8Array,
  format: string,
  children: readonly Box[],
): CodecDescription | { unsupported: string } {
  const payload = (box: Box) => bytes.subarray(box.payloadStart, box.end);
  if (format === "mp4a") {
    const esds = findBox(children, "esds");
    if (esds === undefined) return { unsupported: 'codec "mp4a" without an esds box' };
    const { objectType, config } = esdsConfig(new BoxCursor(file, bytes, esds));
    if (objectType !== 0x40 || config === undefined) {
      return { unsupported: `codec "mp4a.${objectType.toString(16)}" (only MPEG-4 AAC, 40)` };
    }
    let info: ReturnType<typeof parseAudioSpecificConfig>;
    try {
      info = parseAudioSpecificConfig(config);
    } catch (error) {
      return { unsupported: `an AudioSpecificConfig that ${(error as Error).message}` };
    }
    const channels = info.signalledObjectType === 29 && info.channels === 1 ? 2 : info.channels;
    return {
      codec: `mp4a.40.${info.signalledObjectType}`,
      mimeType: "audio/mp4",
      codecData: config,
      sampleRate: info.sampleRate,
      channels,
    };
  }
  if (format === "Opus") {
    const dOps = findBox(children, "dOps");
    if (dOps === undefined) return { unsupported: 'codec "Opus" without a dOps box' };
    const c = new BoxCursor(file, bytes, dOps);
    c.skip(1);
    const channels = c.u8();
    const preSkip = c.u16();
    const inputRate = c.u32();
    const gain = c.u16();
    const family = c.u8();
    const table = family === 0 ? new Uint8Array() : c.bytesView(2 + channels);
    // OpusHead (RFC 7845 section 5.1): what Ogg carries and decoders take; little-endian.
    const head = new Uint8Array(19 + table.byteLength);
    const view = new DataView(head.buffer);
    head.set(new TextEncoder().encode("OpusHead"));
    view.setUint8(8, 1);
    view.setUint8(9, channels);
    view.setUint16(10, preSkip, true);
    view.setUint32(12, inputRate, true);
    view.setUint16(16, gain, true);
    view.setUint8(18, family);
    head.set(table, 19);
    return {
      codec: "opus",
      mimeType: "audio/x-opus",
      codecData: head,
      sampleRate: 48000,
      channels,
    };
  }
  if (format === "ac-3") {
    const dac3 = findBox(children, "dac3");
    if (dac3 === undefined) return { unsupported: 'codec "ac-3" without a dac3 box' };
    const c = new BoxCursor(file, bytes, dac3);
    const bits = c.u24();
    const rate = AC3_RATES[bits >> 22] ?? 0;
    const channels = (AC3_CHANNELS[(bits >> 11) & 7] ?? 0) + ((bits >> 10) & 1);
    return {
      codec: "ac-3",
      mimeType: "audio/x-ac3",
      codecData: payload(dac3),
      sampleRate: rate,
      channels,
    };
  }
  if (format === "ec-3") {
    const dec3 = findBox(children, "dec3");
    if (dec3 === undefined) return { unsupported: 'codec "ec-3" without a dec3 box' };
    const c = new BoxCursor(file, bytes, dec3);
    c.skip(2);
    const bits = c.u24();
    const rate = AC3_RATES[bits >> 22] ?? 0;
    const channels = (AC3_CHANNELS[(bits >> 9) & 7] ?? 0) + ((bits >> 8) & 1);
    return {
      codec: "ec-3",
      mimeType: "audio/x-eac3",
      codecData: payload(dec3),
      sampleRate: rate,
      channels,
    };
  }
  return { unsupported: `codec "${format}"` };
}

function videoCodec(
  bytes: Uint8Array,
  format: string,
  children: readonly Box[],
): CodecDescription | { unsupported: string } {
  const payload = (box: Box) => bytes.subarray(box.payloadStart, box.end);
  if (format === "avc1" || format === "avc3") {
    const avcC = findBox(children, "avcC");
    if (avcC === undefined) return { unsupported: `codec "${format}" without an avcC box` };
    const data = payload(avcC);
    return { codec: avcCodec(format, data), mimeType: "video/h264", codecData: data };
  }
  if (format === "hvc1" || format === "hev1") {
    const hvcC = findBox(children, "hvcC");
    if (hvcC === undefined || hvcC.end - hvcC.payloadStart < 13) {
      return { unsupported: `codec "${format}" without an hvcC box` };
    }
    const data = payload(hvcC);
    return { codec: hevcCodec(format, data), mimeType: "video/h265", codecData: data };
  }
  return { unsupported: `codec "${format}"` };
}

function protectionOf(
  file: string,
  bytes: Uint8Array,
  children: readonly Box[],
): { originalFormat: string; protection?: ProtectionScheme } | undefined {
  const sinf = findBox(children, "sinf");
  if (sinf === undefined) return undefined;
  const inside = childBoxes(file, bytes, sinf);
  const frma = findBox(inside, "frma");
  const schm = findBox(inside, "schm");
  const schi = findBox(inside, "schi");
  if (frma === undefined || schm === undefined) return undefined;
  const originalFormat = new BoxCursor(file, bytes, frma).fourcc();
  const schmCursor = new BoxCursor(file, bytes, schm);
  schmCursor.fullBoxHeader();
  const scheme = schmCursor.fourcc();
  const tenc = schi && findBox(childBoxes(file, bytes, schi), "tenc");
  if (tenc === undefined) return { originalFormat };
  return { originalFormat, protection: { scheme, defaults: readTenc(file, bytes, tenc) } };
}

/** Reads one `stsd` entry of a track whose handler is `handler` (`vide`, `soun`, ...). */
export function readSampleEntry(
  file: string,
  bytes: Uint8Array,
  entry: Box,
  handler: string,
): SampleEntry {
  const format = entry.type;
  const c = new BoxCursor(file, bytes, entry);
  const isVisual = handler === "vide" && VISUAL.has(format);
  const isAudio = handler === "soun" && AUDIO.has(format);
  if (!isVisual && !isAudio) {
    return {
      format,
      originalFormat: format,
      codec: { unsupported: `codec "${format}" (${handler} track)` },
    };
  }
  c.skip(8);
  let width: number | undefined;
  let height: number | undefined;
  let childrenAt: number;
  if (isVisual) {
    c.skip(16);
    width = c.u16();
    height = c.u16();
    childrenAt = 78;
  } else {
    const version = c.u16();
    childrenAt = version === 1 ? 44 : version === 2 ? 64 : 28;
  }
  const children = childBoxes(file, bytes, entry, childrenAt);
  const protected_ = protectionOf(file, bytes, children);
  const originalFormat = protected_?.originalFormat ?? format;
  if ((format === "encv" || format === "enca") && protected_?.protection === undefined) {
    return {
      format,
      originalFormat,
      codec: { unsupported: `protected codec "${originalFormat}" without sinf/schm/tenc` },
    };
  }
  const codec = isVisual
    ? videoCodec(bytes, originalFormat, children)
    : audioCodec(file, bytes, originalFormat, children);
  const scheme = protected_?.protection?.scheme;
  const refused =
    scheme !== undefined && scheme !== "cenc" && scheme !== "cbcs"
      ? { unsupported: `protection scheme "${scheme}" (cenc and cbcs are)` }
      : codec;
  return {
    format,
    originalFormat,
    ...(protected_?.protection === undefined ? {} : { protection: protected_.protection }),
    codec: refused,
    ...(width === undefined ? {} : { width, height }),
  };
}

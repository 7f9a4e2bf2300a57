import { type MediaSource, RialtoError } from "@rialto/protocol";

/** A decoder choice: the element factory and the Debian package that brings it. */
interface Decoder {
  readonly element: string;
  readonly debian: string;
}

/** How one elementary-stream MIME type is decoded. */
interface CodecEntry {
  readonly kind: "audio" | "video";
  /** Caps of the appsrc, given the source's codec data (hex) when it has some. */
  caps(source: MediaSource, codecDataHex: string | undefined): string;
  /** Decoders in order of preference. */
  readonly decoders: readonly Decoder[];
}

const LIBAV = "gstreamer1.0-libav";
const BASE = "gstreamer1.0-plugins-base";

function codecData(hex: string | undefined): string {
  return hex === undefined ? "" : `,codec_data=(buffer)${hex}`;
}

function audioFields(source: MediaSource): string {
  if (source.type !== "audio" || source.audio === undefined) return "";
  return `,rate=(int)${source.audio.sampleRate},channels=(int)${source.audio.channels}`;
}

function videoFields(source: MediaSource): string {
  if (source.type !== "video" || source.video === undefined) return "";
  return `,width=(int)${source.video.width},height=(int)${source.video.height}`;
}

const h264: CodecEntry = {
  kind: "video",
  caps: (source, hex) =>
    `video/x-h264,stream-format=${hex === undefined ? "byte-stream" : "avc"},alignment=au${codecData(hex)}${videoFields(source)}`,
  decoders: [{ element: "avdec_h264", debian: LIBAV }],
};

const h265: CodecEntry = {
  kind: "video",
  caps: (source, hex) =>
    `video/x-h265,stream-format=${hex === undefined ? "byte-stream" : "hvc1"},alignment=au${codecData(hex)}${videoFields(source)}`,
  decoders: [{ element: "avdec_h265", debian: LIBAV }],
};

const aac: CodecEntry = {
  kind: "audio",
  caps: (source, hex) =>
    `audio/mpeg,mpegversion=(int)4,stream-format=${hex === undefined ? "adts" : "raw"}${codecData(hex)}${audioFields(source)}`,
  decoders: [{ element: "avdec_aac", debian: LIBAV }],
};

/**
 * Opus caps from an OpusHead (RFC 7845 5.1: channels at byte 9, mapping family at 18, then the
 * stream and coupled counts and the channel mapping): the fields opusdec reads from caps.
 * Without one the stream is taken as mapping family 0 (mono or stereo), as Rialto does.
 */
function opusCaps(source: MediaSource, hex: string | undefined): string {
  const head = hex === undefined ? undefined : Buffer.from(hex, "hex");
  if (head === undefined || head.byteLength < 19 || head.toString("latin1", 0, 8) !== "OpusHead") {
    return `audio/x-opus,channel-mapping-family=(int)0${audioFields(source)}`;
  }
  const channels = head[9] ?? 0;
  const family = head[18] ?? 0;
  const fields = [`channel-mapping-family=(int)${family}`, `channels=(int)${channels}`];
  if (family !== 0 && head.byteLength >= 21 + channels) {
    const mapping = [...head.subarray(21, 21 + channels)].join(",");
    fields.push(
      `stream-count=(int)${head[19]}`,
      `coupled-count=(int)${head[20]}`,
      `channel-mapping=(int)<${mapping}>`,
    );
  }
  // The OpusHead itself too: libav's decoder takes it as extradata (pre-skip included).
  return `audio/x-opus,rate=(int)48000,${fields.join(",")}${codecData(hex)}`;
}

const opus: CodecEntry = {
  kind: "audio",
  caps: opusCaps,
  // libav's decoder first: the one ffmpeg uses, so its output can be checked against ffmpeg's.
  decoders: [
    { element: "avdec_opus", debian: LIBAV },
    { element: "opusdec", debian: BASE },
  ],
};

const ac3: CodecEntry = {
  kind: "audio",
  caps: (source) => `audio/x-ac3,framed=(boolean)true${audioFields(source)}`,
  decoders: [{ element: "avdec_ac3", debian: LIBAV }],
};

const eac3: CodecEntry = {
  kind: "audio",
  caps: (source) => `audio/x-eac3,framed=(boolean)true${audioFields(source)}`,
  decoders: [{ element: "avdec_eac3", debian: LIBAV }],
};

/**
 * The elementary-stream MIME types the GStreamer engine knows (Rialto's names and the common
 * aliases): what appsrc caps each gets and which decoder plays it.
 */
const CODECS: ReadonlyMap<string, CodecEntry> = new Map([
  ["video/h264", h264],
  ["video/h265", h265],
  ["video/hevc", h265],
  ["audio/mp4", aac],
  ["audio/aac", aac],
  ["audio/x-opus", opus],
  ["audio/opus", opus],
  ["audio/x-ac3", ac3],
  ["audio/ac3", ac3],
  ["audio/x-eac3", eac3],
  ["audio/eac3", eac3],
]);

/** Whether an element factory is registered (the engine's registry check). */
export type HasElement = (factory: string) => boolean;

/** What the engine builds for one source: appsrc caps and the decoder element. */
export interface SourcePlan {
  readonly caps: string;
  readonly decoder: string;
}

/** The MIME type without parameters, lower-cased (`video/mp4; codecs=...` → `video/mp4`). */
function baseMimeType(mimeType: string): string {
  return (mimeType.split(";")[0] ?? "").trim().toLowerCase();
}

/**
 * Plans one source: its appsrc caps and the first decoder of its MIME type that the registry
 * has. Throws `INVALID_ARGUMENT` for a MIME type the engine does not know, `NOT_FOUND` naming
 * the decoder and its Debian package when none is installed.
 */
export function planSource(source: MediaSource, hasElement: HasElement): SourcePlan {
  const mimeType = baseMimeType(source.mimeType);
  const entry = CODECS.get(mimeType);
  if (entry === undefined || entry.kind !== source.type) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `pipeline/attachSource: the GStreamer engine cannot play a ${source.type} source of type "${source.mimeType}" (it plays ${[...CODECS.keys()].join(", ")})`,
    );
  }
  const decoder = entry.decoders.find((d) => hasElement(d.element));
  if (decoder === undefined) {
    const wanted = entry.decoders.map((d) => `${d.element} (apt-get install ${d.debian})`);
    throw new RialtoError(
      "NOT_FOUND",
      `pipeline/attachSource: no GStreamer decoder for "${source.mimeType}" is installed: ${wanted.join(" or ")}`,
    );
  }
  // Narrowed to audio or video by the lookup above: both may carry codec data.
  const encoded = (source as { readonly codecData?: string }).codecData;
  const hex = encoded === undefined ? undefined : Buffer.from(encoded, "base64").toString("hex");
  return { caps: entry.caps(source, hex === "" ? undefined : hex), decoder: decoder.element };
}

/**
 * The MIME types of `kind` (all kinds when undefined) that the registry has a decoder for, in a
 * stable order.
 */
export function decodableMimeTypes(hasElement: HasElement, kind?: "audio" | "video"): string[] {
  const types: string[] = [];
  for (const [mimeType, entry] of CODECS) {
    if (kind !== undefined && entry.kind !== kind) continue;
    if (entry.decoders.some((d) => hasElement(d.element))) types.push(mimeType);
  }
  return types;
}

/** Whether a MIME type (parameters ignored) has a decoder in the registry. */
export function isDecodable(mimeType: string, hasElement: HasElement): boolean {
  const entry = CODECS.get(baseMimeType(mimeType));
  return entry?.decoders.some((d) => hasElement(d.element)) ?? false;
}

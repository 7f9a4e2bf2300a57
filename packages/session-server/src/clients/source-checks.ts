import { describeValue, type MediaSource, RialtoError } from "@rialto/protocol";
import type { MediaEngine } from "../media/media-engine.ts";

/** What one MIME type's codec data must look like. */
interface CodecDataRule {
  /** Whether a source of this type must have codec data. */
  readonly required: boolean;
  /** What the codec data is, for messages. */
  readonly what: string;
  /** Why `bytes` are not that record, or undefined when they look right. */
  check(bytes: Uint8Array): string | undefined;
}

function versionedRecord(what: string, minBytes: number): CodecDataRule["check"] {
  return (bytes) => {
    if (bytes.byteLength < minBytes) return `${bytes.byteLength} bytes is too short for an ${what}`;
    if (bytes[0] !== 1) return `an ${what} starts with configurationVersion 1, not ${bytes[0]}`;
    return undefined;
  };
}

/**
 * Codec data by elementary-stream MIME type. H.264/H.265 with codec data (avcC/hvcC) take
 * length-prefixed NAL units; without it, Annex B (start codes, parameter sets in band). AAC as
 * `audio/mp4` is raw AAC, undecodable without its AudioSpecificConfig (`audio/aac` without one
 * is ADTS). An Opus source's codec data, when given, is its OpusHead.
 */
const CODEC_DATA_RULES: ReadonlyMap<string, CodecDataRule> = new Map<string, CodecDataRule>([
  [
    "video/h264",
    { required: false, what: "avcC record", check: versionedRecord("avcC record", 7) },
  ],
  [
    "video/h265",
    { required: false, what: "hvcC record", check: versionedRecord("hvcC record", 23) },
  ],
  [
    "audio/mp4",
    {
      required: true,
      what: "AudioSpecificConfig (raw AAC; the esds's DecoderSpecificInfo)",
      check: (bytes) =>
        bytes.byteLength < 2
          ? `${bytes.byteLength} bytes is too short for an AudioSpecificConfig`
          : undefined,
    },
  ],
  [
    "audio/x-opus",
    {
      required: false,
      what: "OpusHead",
      check: (bytes) =>
        bytes.byteLength >= 19 && new TextDecoder().decode(bytes.subarray(0, 8)) === "OpusHead"
          ? undefined
          : "it does not start with an OpusHead of at least 19 bytes",
    },
  ],
]);

/** The MIME type without parameters, lower-cased (`video/h264; profile=high` → `video/h264`). */
export function baseMimeType(mimeType: string): string {
  return (mimeType.split(";")[0] ?? "").trim().toLowerCase();
}

/**
 * Refuses, with `INVALID_ARGUMENT` naming what is supported, a source the app's engine cannot
 * play: a MIME type its `getSupportedMimeTypes(source.type)` does not list, or codec data its
 * format needs and lacks (or that is not the record the format uses).
 */
export function checkSource(engine: MediaEngine, source: MediaSource, method: string): void {
  const mimeType = baseMimeType(source.mimeType);
  const supported = engine.getSupportedMimeTypes(source.type);
  if (!supported.includes(mimeType)) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `${method}: the ${engine.name} engine plays no ${source.type} source of MIME type ${describeValue(source.mimeType)}; its supported ${source.type} types are ${supported.length === 0 ? "none" : supported.join(", ")}`,
    );
  }
  if (source.type === "subtitle") return;
  const rule = CODEC_DATA_RULES.get(mimeType);
  if (rule === undefined) return;
  if (source.codecData === undefined) {
    if (!rule.required) return;
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `${method}: a source of ${mimeType} needs codecData (its ${rule.what})`,
    );
  }
  const problem = rule.check(Uint8Array.fromBase64(source.codecData));
  if (problem !== undefined) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `${method}: the codecData of a ${mimeType} source must be its ${rule.what}: ${problem}`,
    );
  }
}

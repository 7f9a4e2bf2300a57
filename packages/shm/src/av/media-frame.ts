/** Encryption scheme of a frame: AES-128-CTR ("cenc") or AES-128-CBC with pattern ("cbcs"). */
export type CipherMode = "cenc" | "cbcs";

/** One subsample: clear bytes followed by encrypted bytes. */
export interface Subsample {
  /** Bytes left in the clear, 0 to 2^32 - 1. */
  readonly clearBytes: number;
  /** Encrypted bytes that follow, 0 to 2^32 - 1. */
  readonly encryptedBytes: number;
}

/** Pattern encryption: of every `crypt + skip` 16-byte blocks, the first `crypt` are encrypted. */
export interface EncryptionPattern {
  /** Encrypted 16-byte blocks per pattern, 0 to 255. */
  readonly cryptByteBlock: number;
  /** Clear 16-byte blocks per pattern, 0 to 255. */
  readonly skipByteBlock: number;
}

/** How a frame is encrypted. */
export interface FrameEncryption {
  /** The cipher mode. */
  readonly cipherMode: CipherMode;
  /** The key session (MediaKeys session id) whose keys decrypt the frame, a u32. */
  readonly keySessionId: number;
  /** Key id, 0 to 255 bytes (16 for CENC). */
  readonly keyId: Uint8Array;
  /** Initialisation vector, 8 or 16 bytes. */
  readonly iv: Uint8Array;
  /** Subsamples; empty means the whole frame is encrypted, else their sum is the frame length. */
  readonly subsamples: readonly Subsample[];
  /** Pattern (cbcs); absent when there is none (written as 0/0). */
  readonly pattern?: EncryptionPattern;
}

/** Fields every frame has. Timestamps and durations are integers in nanoseconds. */
interface FrameBase {
  /** Source (stream) id within the playback session, a u32. */
  readonly sourceId: number;
  /** Presentation time in ns (a safe integer, may be negative). */
  readonly timestampNs: number;
  /** Duration in ns (a non-negative safe integer). */
  readonly durationNs: number;
  /** The frame bytes: written from here by the writer, a view into the region when read. */
  readonly data: Uint8Array;
  /** Codec data (e.g. an avcC record) when it changes with this frame. */
  readonly codecData?: Uint8Array;
  /** Encryption info when the frame is encrypted. */
  readonly encryption?: FrameEncryption;
}

/** An audio frame. */
export interface AudioFrame extends FrameBase {
  /** Discriminant. */
  readonly kind: "audio";
  /** Sample rate in Hz (0: unknown). */
  readonly sampleRate: number;
  /** Channel count (0: unknown). */
  readonly channels: number;
}

/** A video frame. */
export interface VideoFrame extends FrameBase {
  /** Discriminant. */
  readonly kind: "video";
  /** Width in pixels (0: unknown). */
  readonly width: number;
  /** Height in pixels (0: unknown). */
  readonly height: number;
}

/** A subtitle frame. */
export interface SubtitleFrame extends FrameBase {
  /** Discriminant. */
  readonly kind: "subtitle";
}

/** One frame of the needMediaData/haveData exchange. */
export type MediaFrame = AudioFrame | VideoFrame | SubtitleFrame;

/** The media kind of a frame. */
export type MediaKind = MediaFrame["kind"];

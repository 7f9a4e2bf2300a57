import type { PlaybackOptions } from "@rialto/protocol";

/** The sink kinds of SPEC 9: `null` counts, `checksum` also hashes. */
export type SinkKind = PlaybackOptions["sink"];

/** What a sink has taken so far. */
export interface SinkCounters {
  /** Frames rendered. */
  readonly renderedFrames: number;
  /** Bytes of those frames (after decryption). */
  readonly renderedBytes: number;
  /** `checksum` sink only: lowercase hex SHA-256 over those bytes in rendering order. */
  readonly checksum?: string;
}

/** The end of a renderer: takes the clear bytes of every frame rendered, in order. */
export interface FrameSink {
  /** Takes one rendered frame's bytes (not kept: they may be reused after the call). */
  render(bytes: Uint8Array): void;
  /** The counters so far. */
  counters(): SinkCounters;
}

class NullSink implements FrameSink {
  protected frames = 0;
  protected bytes = 0;

  render(bytes: Uint8Array): void {
    this.frames++;
    this.bytes += bytes.byteLength;
  }

  counters(): SinkCounters {
    return { renderedFrames: this.frames, renderedBytes: this.bytes };
  }
}

class ChecksumSink extends NullSink {
  readonly #hasher = new Bun.CryptoHasher("sha256");

  override render(bytes: Uint8Array): void {
    super.render(bytes);
    this.#hasher.update(bytes);
  }

  override counters(): SinkCounters {
    // digest() finalises a hasher; a copy keeps this one running.
    return { ...super.counters(), checksum: this.#hasher.copy().digest("hex") };
  }
}

/**
 * Creates a sink: `null` counts frames and bytes; `checksum` also keeps a running SHA-256 over
 * the bytes, like GStreamer's checksumsink (so a test can compare what was rendered with what
 * was sent).
 */
export function createFrameSink(kind: SinkKind): FrameSink {
  return kind === "checksum" ? new ChecksumSink() : new NullSink();
}

import type { Pointer } from "bun:ffi";
import type { SinkCounters, SinkKind } from "../frame-sink.ts";
import type { ContactSheet } from "./contact-sheet.ts";
import type { GstLibrary, PulledSample } from "./gst-ffi.ts";

/**
 * The end of one source's branch, read from the JS thread: decoded frames that reached the sink
 * are counted (and, for `checksum`, hashed). `poll` returns how many arrived since the last call.
 */
export interface DecodedOutput {
  /** Takes what reached the sink since the last call; returns the number of frames. */
  poll(): number;
  /** Frames, bytes (0 when the sink cannot tell) and the checksum so far. */
  counters(): SinkCounters;
  /** True once the sink got end of stream and everything before it; undefined: cannot tell. */
  ended(): boolean | undefined;
  /**
   * Reads a new branch's sink from now on (the source's decoder was replaced): the counts and
   * the checksum go on from where they were. Poll the old sink first.
   */
  retarget(element: Pointer): void;
}

const roundUp = (value: number, to: number) => Math.ceil(value / to) * to;

/**
 * Hashes an I420 frame as tightly packed planes (what `ffmpeg -pix_fmt yuv420p` hashes), reading
 * GStreamer's default I420 layout: rows padded to 4 bytes, chroma of ceil(w/2) x ceil(h/2).
 */
function hashI420(hasher: Bun.CryptoHasher, sample: PulledSample): number {
  const { bytes, width, height } = sample;
  const chromaWidth = Math.ceil(width / 2);
  const chromaHeight = Math.ceil(height / 2);
  const packed = width * height + 2 * chromaWidth * chromaHeight;
  if (bytes.byteLength === packed) {
    hasher.update(bytes);
    return packed;
  }
  const lumaStride = roundUp(width, 4);
  const chromaStride = roundUp(chromaWidth, 4);
  const planes = [
    { offset: 0, stride: lumaStride, rowBytes: width, rows: height },
    {
      offset: lumaStride * roundUp(height, 2),
      stride: chromaStride,
      rowBytes: chromaWidth,
      rows: chromaHeight,
    },
  ];
  const chroma = planes[1] as (typeof planes)[number];
  planes.push({ ...chroma, offset: chroma.offset + chromaStride * chromaHeight });
  for (const plane of planes) {
    for (let row = 0; row < plane.rows; row++) {
      const start = plane.offset + row * plane.stride;
      hasher.update(bytes.subarray(start, start + plane.rowBytes));
    }
  }
  return packed;
}

/** An appsink drained on the JS thread: counts frames and bytes, hashes them for `checksum`. */
class AppSinkOutput implements DecodedOutput {
  readonly #gst: GstLibrary;
  #appsink: Pointer;
  readonly #kind: "audio" | "video";
  readonly #hasher: Bun.CryptoHasher | undefined;
  readonly #sheet: ContactSheet | undefined;
  #frames = 0;
  #bytes = 0;

  constructor(
    gst: GstLibrary,
    appsink: Pointer,
    kind: "audio" | "video",
    hash: boolean,
    sheet: ContactSheet | undefined,
  ) {
    this.#gst = gst;
    this.#appsink = appsink;
    this.#kind = kind;
    this.#hasher = hash ? new Bun.CryptoHasher("sha256") : undefined;
    this.#sheet = kind === "video" ? sheet : undefined;
  }

  poll(): number {
    let taken = 0;
    for (let sample = this.#gst.pullSample(this.#appsink); sample !== undefined; ) {
      try {
        this.#bytes += this.#take(sample);
        taken++;
      } finally {
        sample.release();
      }
      sample = this.#gst.pullSample(this.#appsink);
    }
    this.#frames += taken;
    return taken;
  }

  #take(sample: PulledSample): number {
    this.#sheet?.offer(sample.bytes, sample.width, sample.height, sample.ptsNs);
    if (this.#hasher === undefined) return sample.bytes.byteLength;
    if (this.#kind === "video" && sample.width > 0) return hashI420(this.#hasher, sample);
    this.#hasher.update(sample.bytes);
    return sample.bytes.byteLength;
  }

  ended(): boolean {
    return this.#gst.appSinkEnded(this.#appsink);
  }

  retarget(appsink: Pointer): void {
    this.#appsink = appsink;
  }

  counters(): SinkCounters {
    const counts = { renderedFrames: this.#frames, renderedBytes: this.#bytes };
    // digest() finalises a hasher; a copy keeps this one running.
    return this.#hasher === undefined
      ? counts
      : { ...counts, checksum: this.#hasher.copy().digest("hex") };
  }
}

/** A device sink: frames are counted natively at an `identity` in front of it; bytes unknown. */
class HandoffOutput implements DecodedOutput {
  readonly #gst: GstLibrary;
  #counter: Int32Array;
  #seen = 0;
  /** Frames counted by the sinks of replaced branches. */
  #before = 0;

  constructor(gst: GstLibrary, element: Pointer) {
    this.#gst = gst;
    this.#counter = gst.countHandoffs(element);
  }

  poll(): number {
    const now = Atomics.load(this.#counter, 0);
    const taken = now - this.#seen;
    this.#seen = now;
    return taken;
  }

  counters(): SinkCounters {
    return { renderedFrames: this.#before + this.#seen, renderedBytes: 0 };
  }

  retarget(element: Pointer): void {
    this.#before += this.#seen;
    this.#seen = 0;
    this.#counter = this.#gst.countHandoffs(element);
  }

  ended(): undefined {
    return undefined;
  }
}

/**
 * The output of one source's branch: for `null` and `checksum` an appsink named `sink<id>`
 * (decoded video as I420, audio as F32LE), for `device` the handoff counter of `count<id>`.
 * The pipeline owns the element. Decoded video frames are also offered to `sheet` (appsinks only).
 */
export function createDecodedOutput(
  gst: GstLibrary,
  sink: SinkKind,
  kind: "audio" | "video",
  element: Pointer,
  sheet?: ContactSheet,
): DecodedOutput {
  if (sink === "device") return new HandoffOutput(gst, element);
  return new AppSinkOutput(gst, element, kind, sink === "checksum", sheet);
}

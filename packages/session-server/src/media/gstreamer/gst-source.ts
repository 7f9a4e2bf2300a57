import type { Pointer } from "bun:ffi";
import type { MediaSource, SourceId } from "@rialto/protocol";
import type { DecodedOutput } from "./decoded-output.ts";
import type { SourcePlan } from "./source-caps.ts";

/** One source: its plan, its appsrc and output once built, and the data-request bookkeeping. */
export interface GstSource {
  readonly id: SourceId;
  readonly kind: "audio" | "video";
  source: MediaSource;
  plan: SourcePlan;
  appsrc?: Pointer;
  /**
   * The branch was added to the running pipeline: it is a bin of its own (`branch<id>`) and its
   * appsrc's running time is offset (until a seek restarts it).
   */
  live: boolean;
  offset: boolean;
  output?: DecodedOutput;
  /** The `volume` element of an audio source. */
  volume?: Pointer;
  /** The appsink of the source (null and checksum sinks), for its `sync` property. */
  appsink?: Pointer;
  requestPending: boolean;
  eos: boolean;
  firstFrameSent: boolean;
  underflowReported: boolean;
  muted: boolean;
  /** Frames dropped by QoS (from the sink's QOS messages) and frames that failed to decrypt. */
  dropped: number;
  /** End (pts + duration) of the latest frame pushed, ns. */
  pushedEndNs: number;
}

/** A source just attached: planned, no branch yet, nothing asked or pushed. */
export function newGstSource(id: SourceId, source: MediaSource, plan: SourcePlan): GstSource {
  return {
    id,
    kind: source.type === "video" ? "video" : "audio",
    source,
    plan,
    live: false,
    offset: false,
    requestPending: false,
    eos: false,
    firstFrameSent: false,
    underflowReported: false,
    muted: false,
    dropped: 0,
    pushedEndNs: 0,
  };
}

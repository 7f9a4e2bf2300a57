import { expect, it } from "bun:test";
import { openSync } from "node:fs";
import {
  type AnyEvent,
  type MediaSourceStatus,
  type NeedMediaDataEvent,
  type PayloadOf,
  PipelineEvents,
  type PlaybackErrorEvent,
  type PlaybackStateEvent,
  RialtoError,
  withDeadline,
} from "@rialto/protocol";
import { createVirtualEngine, PipelineService } from "@rialto/session-server";
import { computeAvBufferLayout, FrameWriter, SharedMemory } from "@rialto/shm";
import { DEMO_CLIP_TRACKS, loadDemoClip } from "./demo-clip.ts";
import type { DemuxedTrack } from "./demuxed-movie.ts";
import { toMediaFrame } from "./to-media-frame.ts";
import { presentedSamples, trackChecksum } from "./track-checksum.ts";

/** How long the whole clip may take to play in freerun on a busy machine. */
const DEADLINE_MS = 15_000;

/**
 * The app's side of needMediaData: writes the next samples of each track into its own mapping
 * of the AV memory with the shm frame writer, then answers with haveData.
 */
class ClipClient {
  readonly #bytes: Uint8Array;
  readonly #tracks = new Map<number, { track: DemuxedTrack; next: number }>();

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  feed(sourceId: number, track: DemuxedTrack): void {
    this.#tracks.set(sourceId, { track, next: 0 });
  }

  /** Writes frames for one request; returns the haveData status and frame count. */
  answer(need: NeedMediaDataEvent): { status: MediaSourceStatus; numFrames: number } {
    const feed = this.#tracks.get(need.sourceId);
    if (feed === undefined) throw new Error(`needMediaData for unknown source ${need.sourceId}`);
    const { offset, length } = need.region;
    const writer = new FrameWriter(this.#bytes.subarray(offset, offset + length), {
      maxFrames: need.frameCount,
    });
    const { track } = feed;
    while (feed.next < track.samples.length && writer.frameCount < need.frameCount) {
      const sample = track.samples[feed.next];
      if (sample === undefined) break;
      if (writer.write(toMediaFrame(track, sample, need.sourceId)) === "no-space") {
        return { status: "NoSpaceForSamples", numFrames: writer.frameCount };
      }
      feed.next++;
    }
    const last = feed.next === track.samples.length;
    return { status: last ? "Eos" : "Ok", numFrames: writer.frameCount };
  }
}

it("plays the demo clip through the pipeline service over a memfd, every presented sample rendered byte for byte", async () => {
  const clip = await loadDemoClip();

  // Step 1: the server's AV memory (one playback partition) and the client's own mapping of it.
  const layout = computeAvBufferLayout({ maxPlaybackSessions: 1, maxWebAudioPlayers: 0 });
  const partition = layout.playback[0];
  if (partition === undefined) throw new Error("the layout has no playback partition");
  using serverMemory = SharedMemory.create(layout.totalSize, { name: "rialto-clip-test" });
  using clientMemory = SharedMemory.fromFd(openSync(`/proc/self/fd/${serverMemory.fd}`, "r+"));
  const client = new ClipClient(clientMemory.bytes);

  // Step 2: a pipeline service on the virtual engine (freerun clock, checksum sink); its events
  // reach the client asynchronously, as they would over the socket.
  const ended = Promise.withResolvers<void>();
  let service: PipelineService | undefined;
  const deliver = <E extends AnyEvent>(event: E, payload: PayloadOf<E>): void => {
    event.payload.assert(payload, event.name);
    if (event === PipelineEvents.needMediaData) {
      const need = payload as NeedMediaDataEvent;
      queueMicrotask(() => {
        try {
          const { status, numFrames } = client.answer(need);
          service?.haveData({ pipelineId: 1, requestId: need.requestId, status, numFrames });
        } catch (error) {
          ended.reject(error);
        }
      });
    } else if (event === PipelineEvents.playbackError) {
      ended.reject(new Error(`playbackError: ${(payload as PlaybackErrorEvent).message}`));
    } else if (event === PipelineEvents.playbackState) {
      if ((payload as PlaybackStateEvent).state === "EndOfStream") ended.resolve();
    }
  };
  service = new PipelineService({
    pipelineId: 1,
    engine: createVirtualEngine(),
    playback: { clock: "freerun", sink: "checksum" },
    memory: serverMemory.bytes,
    partition,
    emit: deliver,
  });
  await using _service = service;

  // Step 3: the app attaches one source per track and feeds it the track's samples.
  const sources = clip.tracks.map((track) => {
    const codecData = Buffer.from(track.codecData).toString("base64");
    const sourceId = service.pipeline.attachSource(
      track.type === "video"
        ? { type: "video", mimeType: track.mimeType, codecData }
        : { type: "audio", mimeType: track.mimeType, codecData },
    );
    client.feed(sourceId, track);
    return { sourceId, track };
  });
  service.pipeline.allSourcesAttached();

  // Step 4: play, and wait for the end of the stream.
  service.pipeline.play();
  await withDeadline(
    ended.promise,
    DEADLINE_MS,
    () => new RialtoError("TIMEOUT", `the clip did not reach EndOfStream within ${DEADLINE_MS} ms`),
  );

  // Step 5: every presented sample of every track was rendered once, in order, with ffprobe's
  // checksum; the AAC priming sample was fed and clipped (it ends at 0).
  for (const { sourceId, track } of sources) {
    const expected = DEMO_CLIP_TRACKS.find((t) => t.id === track.id);
    const presented = presentedSamples(track.samples);
    expect(service.pipeline.getStats(sourceId)).toEqual({
      renderedFrames: expected?.presentedSamples ?? -1,
      droppedFrames: 0,
      renderedBytes: presented.reduce((sum, s) => sum + s.data.byteLength, 0),
      checksum: expected?.presentedSha256 ?? "",
    });
    expect(trackChecksum(presented)).toBe(expected?.presentedSha256 ?? "");
  }
});

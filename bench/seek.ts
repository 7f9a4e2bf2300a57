// An MSE seek of one source: `flush(sourceId, true)` + `setSourcePosition` → the source's
// `firstFrame`, through the whole system (client → session server → virtual engine, samples
// through the AV shared memory) against the same seek on the engine alone, in process (the
// engine's pipeline with a listener that answers each data request at once from the demuxed
// samples). The demo clip's video track, freerun clock, null sink; targets spread over the clip
// (the app restarts at the keyframe before each). Rounds alternate the two sides (ABBA) so the
// machine's noise hits them alike. Last line: one JSON object; `ratio` = system / engine
// alone, medians.
import type { RialtoClient } from "@rialto/client";
import { PipelineEvents, type PlaybackOptions } from "@rialto/protocol";
import { createVirtualEngine, type Pipeline, systemClock } from "@rialto/session-server";
import { ClipPlayer } from "../apps/demo-app/src/clip-player.ts";
import {
  type DemuxedMovie,
  type DemuxedTrack,
  loadDemoClip,
  toMediaFrame,
} from "../apps/demo-app/src/mp4/index.ts";
import { BenchApp } from "./support/bench-app.ts";
import { median, roundTo } from "./support/measure.ts";
import { quick } from "./support/quick.ts";

const PLAYBACK: PlaybackOptions = { engine: "virtual", clock: "freerun", sink: "null" };
const TARGETS_S = [0.7, 1.9, 2.6, 3.3, 4.1];
const ROUNDS = Number(process.argv[2] ?? quick(7, 2));

/** Index of the keyframe at or before `targetNs` (the app restarts there). */
function keyframeBefore(track: DemuxedTrack, targetNs: number): number {
  let index = 0;
  track.samples.forEach((s, i) => {
    if (s.timestampNs <= targetNs && s.isSync) index = i;
  });
  return index;
}

/** The engine alone: one pipeline, fed synchronously on every data request. */
async function engineAlone(movie: DemuxedMovie, targetsNs: readonly number[]): Promise<number[]> {
  const video = movie.tracks.find((t) => t.type === "video") as DemuxedTrack;
  let next = 0;
  let firstFrame: (() => void) | undefined;
  let pipeline: Pipeline | undefined;
  const pending: { count: number }[] = [];
  pipeline = createVirtualEngine({ clock: systemClock }).createPipeline({
    pipelineId: 1,
    playback: PLAYBACK,
    listener: {
      emit: (event) => {
        if (event === PipelineEvents.firstFrame) firstFrame?.();
      },
      needData: ({ frameCount }) => pending.push({ count: frameCount }),
      cancelData: () => pending.splice(0),
    },
  });
  const sourceId = pipeline.attachSource({ type: "video", mimeType: video.mimeType });
  // Answers outside the pipeline's own call, as the data side does (never re-entrant).
  const feed = () => {
    for (const request of pending.splice(0)) {
      const frames = video.samples
        .slice(next, next + request.count)
        .map((s) => toMediaFrame(video, s, sourceId));
      next += frames.length;
      pipeline?.pushFrames(sourceId, frames, next >= video.samples.length);
    }
  };
  const feeder = setInterval(feed, 0);
  try {
    pipeline.allSourcesAttached();
    pipeline.play();
    const times: number[] = [];
    for (const targetNs of targetsNs) {
      const shown = new Promise<void>((resolve) => {
        firstFrame = resolve;
      });
      const started = performance.now();
      next = keyframeBefore(video, targetNs);
      pipeline.flush(sourceId, true);
      pipeline.setSourcePosition(sourceId, targetNs, true, 1);
      pipeline.play();
      feed();
      await shown;
      times.push(performance.now() - started);
    }
    return times;
  } finally {
    clearInterval(feeder);
    pipeline.destroy();
  }
}

/** The whole system: a client's pipeline in a real session server. */
async function throughRialto(
  client: RialtoClient,
  movie: DemuxedMovie,
  targetsNs: readonly number[],
): Promise<number[]> {
  const video = movie.tracks.filter((t) => t.type === "video");
  const player = await ClipPlayer.open(client, { ...movie, tracks: video });
  const feeder = player.feeders[0];
  if (feeder === undefined) throw new Error("the clip has a video track");
  try {
    await player.play();
    const times: number[] = [];
    for (const targetNs of targetsNs) {
      const shown = new Promise<void>((resolve) => {
        const stop = player.pipeline.on("firstFrame", () => {
          stop();
          resolve();
        });
      });
      const started = performance.now();
      feeder.hold();
      feeder.seek(targetNs);
      await player.pipeline.flush(feeder.sourceId, true);
      await player.pipeline.setSourcePosition(feeder.sourceId, targetNs);
      await feeder.resume();
      await shown;
      times.push(performance.now() - started);
    }
    return times;
  } finally {
    await player.pipeline.destroy();
  }
}

const movie = await loadDemoClip();
const targetsNs = TARGETS_S.map((s) => Math.round(s * 1e9));
await using app = await BenchApp.start({ playback: PLAYBACK });
const client = await app.connect();
await client.setApplicationState("Running");
// Warm-up of both sides (first pipeline, JIT), not counted.
await engineAlone(movie, targetsNs);
await throughRialto(client, movie, targetsNs);

const alone: number[] = [];
const rialto: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 4 === 0 || round % 4 === 3 ? ["a", "r"] : ["r", "a"];
  for (const side of order) {
    if (side === "a") alone.push(...(await engineAlone(movie, targetsNs)));
    else rialto.push(...(await throughRialto(client, movie, targetsNs)));
  }
}
const aloneMs = roundTo(median(alone), 3);
const rialtoMs = roundTo(median(rialto), 3);
const ratio = roundTo(rialtoMs / aloneMs, 2);
console.log(
  `MSE seek of the video source (flush + setSourcePosition → firstFrame), ${ROUNDS} rounds × ${TARGETS_S.length} targets, median`,
);
console.log(`  engine alone (in process)   ${aloneMs} ms`);
console.log(`  through the whole system    ${rialtoMs} ms   ratio ${ratio}`);
console.log(JSON.stringify({ benchmark: "seek", rounds: ROUNDS, aloneMs, rialtoMs, ratio }));

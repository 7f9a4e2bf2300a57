// Real playback through the whole system against GStreamer alone, on the same clip in one run.
//
// - Rialto: a session server (in-process ServerManager, the default command, playback engine
//   `gstreamer`, clock `freerun`, sink `null`) and a Running RialtoClient playing the clip with
//   the demo's ClipPlayer (samples in decode order on every needMediaData, through the AV shared
//   memory): client → shm → session server → appsrc → avdec → appsink.
// - bare: the same GStreamer pipeline in this process (the engine's own launch description,
//   caps, GstLibrary and buffer copies), fed straight from the demuxed samples and drained by
//   blocking appsink pulls: what GStreamer does with no Rialto in between.
//
// Each round prerolls a new pipeline on both sides (PAUSED, 3 frames per source), then measures
//   (a) play → EndOfStream: decoded video frames per second (goal: Rialto / bare >= 0.8);
//   (b) play → first decoded video frame (Rialto: the client's `firstFrame` event; bare: the
//       first sample pulled after PLAYING), and after EOS, seeks (`setPosition` / a flushing
//       accurate seek) to three positions near the end → first frame (goal: <= 1.2).
// Every round checks that both sides decoded every video frame and the same audio frames. Rounds
// alternate which side goes first (ABBA), so both see the same machine load; the ratios are
// medians of the per-round ratios. Also shown: CPU time (user + system) per video frame over
// play → EndOfStream, of this process plus the session server for Rialto, of this process alone
// for bare. Nothing is pinned: the decoder's threads need both CPUs.
//
// The clip: bench/support/make-bench-clip.sh (the demo clip's recipe, 30 s by default) into a
// temporary directory when ffmpeg is on PATH, else the bundled 5 s demo clip; `--clip FILE` plays
// another MP4. Run after `bun run build`. Last line: one JSON object with the figures.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import type { RialtoClient } from "@rialto/client";
import { DEMO_CLIP_PATH, type DemuxedMovie, demuxMp4File } from "../apps/demo-app/src/mp4/index.ts";
import { BareGstPlayback } from "./support/bare-gst-playback.ts";
import { BenchApp } from "./support/bench-app.ts";
import { median, round2, roundTo } from "./support/measure.ts";
import { processCpuNs } from "./support/process-cpu.ts";
import { type PlaybackTimes, RialtoGstPlayback } from "./support/rialto-gst-playback.ts";

const PLAYBACK = { engine: "gstreamer", clock: "freerun", sink: "null" } as const;
/** Where the seeks go, as fractions of the clip (each mid-GOP in the default clip). */
const SEEK_FRACTIONS = [0.81, 0.87, 0.93];

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "7" },
    seconds: { type: "string", default: "30" },
    size: { type: "string", default: "320x240" },
    clip: { type: "string" },
  },
});
const ROUNDS = Number(args.rounds);

/** One round of one side: times of the start and of each seek, CPU time of the playthrough. */
interface Round {
  readonly play: PlaybackTimes;
  readonly seeks: readonly PlaybackTimes[];
  readonly cpuNs: number;
  readonly videoFrames: number;
  readonly audioFrames: number;
}

/** The clip to play and where it comes from. */
async function benchClip(dir: string): Promise<{ path: string; made: string }> {
  if (args.clip !== undefined) {
    const shown = args.clip.startsWith(process.cwd())
      ? relative(process.cwd(), args.clip)
      : args.clip;
    return { path: args.clip, made: shown };
  }
  if (Bun.which("ffmpeg") === null) {
    return { path: DEMO_CLIP_PATH, made: "the bundled demo clip (no ffmpeg on PATH)" };
  }
  const path = join(dir, "bench-clip.mp4");
  const script = join(import.meta.dir, "support/make-bench-clip.sh");
  const made = Bun.spawnSync([script, path, args.seconds, args.size], { stderr: "inherit" });
  if (made.exitCode !== 0) throw new Error(`make-bench-clip.sh failed (${made.exitCode})`);
  return { path, made: `make-bench-clip.sh ${args.seconds} s ${args.size}` };
}

function samplesOf(movie: DemuxedMovie, type: "audio" | "video"): number {
  return movie.tracks.find((t) => t.type === type)?.samples.length ?? 0;
}

async function rialtoRound(
  app: BenchApp,
  client: RialtoClient,
  movie: DemuxedMovie,
  seeks: readonly number[],
): Promise<Round> {
  await using playback = await RialtoGstPlayback.preroll(client, movie);
  if (app.pid === undefined) throw new Error("the session server has no pid");
  const pids = [process.pid, app.pid];
  const cpuBefore = pids.map(processCpuNs);
  const play = await playback.playToEnd();
  const cpu = pids.reduce((sum, pid, i) => sum + processCpuNs(pid) - (cpuBefore[i] ?? 0), 0);
  const { audio, video } = await playback.rendered();
  if (video.dropped + audio.dropped > 0) throw new Error("the Rialto pipeline dropped frames");
  const seekTimes: PlaybackTimes[] = [];
  for (const position of seeks) seekTimes.push(await playback.seekToEnd(position));
  return {
    play,
    seeks: seekTimes,
    cpuNs: cpu,
    videoFrames: video.rendered,
    audioFrames: audio.rendered,
  };
}

async function bareRound(movie: DemuxedMovie, seeks: readonly number[]): Promise<Round> {
  using bare = await BareGstPlayback.preroll(movie, PLAYBACK);
  const cpuBefore = processCpuNs(process.pid);
  const play = bare.playToEnd();
  const cpu = processCpuNs(process.pid) - cpuBefore;
  const { audio, video } = bare.pulled();
  const seekTimes = seeks.map((position) => bare.seekToEnd(position));
  return { play, seeks: seekTimes, cpuNs: cpu, videoFrames: video, audioFrames: audio };
}

const dir = mkdtempSync(join(tmpdir(), "rialto-bench-gst-"));
try {
  const clip = await benchClip(dir);
  const movie = await demuxMp4File(clip.path);
  const videoSamples = samplesOf(movie, "video");
  const audioSamples = samplesOf(movie, "audio");
  const seeks = SEEK_FRACTIONS.map((f) => Math.round((movie.durationNs * f) / 1e6) * 1e6);
  console.log(
    `clip: ${clip.made}, ${(movie.durationNs / 1e9).toFixed(1)} s, ${videoSamples} video + ${audioSamples} audio samples`,
  );

  await using app = await BenchApp.start({
    playback: PLAYBACK,
    resources: { maxPlaybackSessions: 1 },
  });
  const client = await app.connect();
  await client.setApplicationState("Running");

  /** Both sides of a round decoded every video frame and the same number of audio frames. */
  const checked = (rialtoSide: Round, bareSide: Round) => {
    for (const [side, round] of [
      ["Rialto", rialtoSide],
      ["bare", bareSide],
    ] as const) {
      if (round.videoFrames !== videoSamples) {
        throw new Error(`${side} decoded ${round.videoFrames} of ${videoSamples} video frames`);
      }
    }
    if (rialtoSide.audioFrames !== bareSide.audioFrames) {
      throw new Error(
        `audio frames differ: Rialto ${rialtoSide.audioFrames}, bare ${bareSide.audioFrames}`,
      );
    }
    return bareSide.audioFrames;
  };
  // Warm-up: the first libav pipeline of each process loads gst-libav (~250 ms).
  const audioFrames = checked(
    await rialtoRound(app, client, movie, seeks),
    await bareRound(movie, seeks),
  );

  const rialto: Round[] = [];
  const bare: Round[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let rialtoSide: Round;
    let bareSide: Round;
    if (round % 2 === 0) {
      rialtoSide = await rialtoRound(app, client, movie, seeks);
      bareSide = await bareRound(movie, seeks);
    } else {
      bareSide = await bareRound(movie, seeks);
      rialtoSide = await rialtoRound(app, client, movie, seeks);
    }
    checked(rialtoSide, bareSide);
    rialto.push(rialtoSide);
    bare.push(bareSide);
  }

  const ms = (ns: number) => ns / 1e6;
  const fps = (r: Round) => r.videoFrames / (r.play.endNs / 1e9);
  const playMs = (r: Round) => ms(r.play.firstFrameNs);
  const seekMs = (r: Round) => r.seeks.map((s) => ms(s.firstFrameNs));
  const cpuUs = (r: Round) => r.cpuNs / 1000 / r.videoFrames;
  /** Median over rounds of Rialto / bare within a round (both saw the same load). */
  const ratio = (of: (r: Round) => number) =>
    median(rialto.map((r, i) => of(r) / of(bare[i] as Round)));
  const seekRatios = rialto.flatMap((r, i) => {
    const bareSeeks = seekMs(bare[i] as Round);
    return seekMs(r).map((value, j) => value / (bareSeeks[j] ?? Number.NaN));
  });
  const cell = (values: number[], digits: number) =>
    `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
  const line = (label: string, rialtoCell: string, bareCell: string, note: string) =>
    `${label.padEnd(28)}${rialtoCell.padEnd(30)}${bareCell.padEnd(28)}${note}`;
  const row = (label: string, of: (r: Round) => number[], digits: number, note: string) =>
    line(label, cell(rialto.flatMap(of), digits), cell(bare.flatMap(of), digits), note);
  const throughput = ratio(fps);
  const play = ratio(playMs);
  const seek = median(seekRatios);
  const goal = (value: number, text: string) => `ratio ${value.toFixed(2)} (goal ${text})`;
  console.log(
    `${ROUNDS} alternating rounds (ABBA), ${seeks.length} seeks each; median (range); ratio = median of Rialto / bare within a round`,
  );
  console.log(line("", "Rialto", "bare", ""));
  console.log(row("decoded video frames/s", (r) => [fps(r)], 0, goal(throughput, ">= 0.8")));
  console.log(row("play → first frame (ms)", (r) => [playMs(r)], 2, goal(play, "<= 1.2")));
  console.log(row("seek → first frame (ms)", seekMs, 2, goal(seek, "<= 1.2")));
  console.log(row("play → EndOfStream (ms)", (r) => [ms(r.play.endNs)], 1, ""));
  console.log(
    row("CPU per video frame (µs)", (r) => [cpuUs(r)], 0, "Rialto: app + session server"),
  );
  console.log(
    JSON.stringify({
      benchmark: "gst-playback",
      clip: clip.made,
      durationS: roundTo(movie.durationNs / 1e9, 2),
      videoFrames: videoSamples,
      audioFrames,
      rounds: ROUNDS,
      seekPositionsS: seeks.map((ns) => ns / 1e9),
      rialto: {
        videoFramesPerSecond: Math.round(median(rialto.map(fps))),
        playToFirstFrameMs: round2(median(rialto.map(playMs))),
        seekToFirstFrameMs: round2(median(rialto.flatMap(seekMs))),
        cpuUsPerVideoFrame: Math.round(median(rialto.map(cpuUs))),
      },
      bare: {
        videoFramesPerSecond: Math.round(median(bare.map(fps))),
        playToFirstFrameMs: round2(median(bare.map(playMs))),
        seekToFirstFrameMs: round2(median(bare.flatMap(seekMs))),
        cpuUsPerVideoFrame: Math.round(median(bare.map(cpuUs))),
      },
      throughputRatio: round2(throughput),
      playToFirstFrameRatio: round2(play),
      seekToFirstFrameRatio: round2(seek),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

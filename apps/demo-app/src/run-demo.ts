import { relative, resolve } from "node:path";
import { type AppConfig, RialtoError } from "@rialto/protocol";
import {
  defaultSessionServerCommand,
  ServerManager,
  startMonitorHttp,
} from "@rialto/server-manager";
import { SNAPSHOT_ENV } from "@rialto/session-server";
import {
  type AppPlaybackOptions,
  type AppPlaybackResult,
  type Checkpoint,
  playOnApp,
} from "./app-playback.ts";
import {
  checkOutcomes,
  expectedByTrackId,
  expectedDecoded,
  formatCheck,
} from "./checksum-report.ts";
import { ClearKeyLicense } from "./clearkey-license.ts";
import type { ClipPlayer, SourceOutcome } from "./clip-player.ts";
import { type DecodedReference, loadDecodedReference } from "./decoded-reference.ts";
import { DemoApp, STEP_TIMEOUT_MS } from "./demo-app-session.ts";
import type { DemoOptions } from "./demo-options.ts";
import { type EncryptedClip, loadEncryptedClip } from "./encrypted-clip.ts";
import { type EncryptedMedia, encryptedFileMedia } from "./encrypted-file.ts";
import { readKeyMaterial } from "./key-material.ts";
import { describeMonitorMessage, LifecycleTimeline } from "./lifecycle-timeline.ts";
import {
  checkDemuxer,
  type DemuxCheck,
  decryptedReference,
  type ExpectedTrack,
} from "./media-reference.ts";
import { DEMO_CLIP_PATH, type DemuxedMovie, demuxMp4File } from "./mp4/index.ts";
import { ProgressLine, type ProgressOutput } from "./progress-line.ts";
import { selectTracks } from "./track-selection.ts";

/** Where the demo writes: whole lines, and the live progress line. */
export interface DemoOutput {
  line(text?: string): void;
  readonly progress: ProgressOutput;
}

/** A movie to play: clear, the bundled encrypted clip, or an encrypted file with its keys. */
export interface DemoMedia {
  /** The file played. */
  readonly path: string;
  /** Its chosen tracks and samples; for the bundled encrypted clip, the clear clip's. */
  readonly movie: DemuxedMovie;
  /** Encrypted media: each app gets the keys through the license flow before it plays. */
  readonly encrypted?: EncryptedMedia;
  /** The bundled encrypted clip (its clear original and key id are shown). */
  readonly bundledClip?: EncryptedClip;
  /** Lines about the tracks left out: skipped ones (warnings), other playable ones. */
  readonly trackNotes: readonly string[];
  /** The demuxer checked against ffprobe (or its golden values). */
  readonly demuxCheck: DemuxCheck;
  /**
   * What the rendered checksums are compared with: `file` (the file's presented samples),
   * `clear` (a clear original), `ffmpeg` (ffmpeg's decryption) or `self-check`; `expected` by
   * track id when it is not the movie's own samples.
   */
  readonly reference: {
    readonly label: string;
    readonly phrase: string;
    readonly expected?: ReadonlyMap<number, ExpectedTrack>;
  };
}

/**
 * What a decoder must output for the media played: from its clear original when there is one
 * (the bundled encrypted clip, `--clear`), else from the file itself unless it is encrypted
 * (ffmpeg cannot decrypt every layout, e.g. DASH segments with subsamples); `null` when there is
 * no reference (only frame counts are checked then).
 */
async function decodedReferenceOf(
  media: DemoMedia,
  options: DemoOptions,
): Promise<DecodedReference | null> {
  const clear =
    media.bundledClip?.clearPath ??
    options.clearFile ??
    (media.encrypted === undefined ? media.path : undefined);
  if (clear === undefined) return null;
  const idOf = (type: "audio" | "video") => media.movie.tracks.find((t) => t.type === type)?.id;
  const tracks = { video: idOf("video"), audio: idOf("audio") };
  return (await loadDecodedReference(clear, tracks)) ?? null;
}

/**
 * The manager's default session server (the bundle `bun run build` makes, run by this Bun), told
 * to log warnings only from its first line: until SetConfiguration brings the app's level it
 * logs at info.
 */
function sessionServerCommand(): string[] {
  return [...defaultSessionServerCommand(), "--log-level", "warn"];
}

/**
 * Reads and demuxes the file the options name (the bundled clip by default, the bundled
 * encrypted clip with `--encrypted`), keeps the chosen tracks, checks the demuxer against
 * ffprobe, and for an encrypted `--file` reads the keys given and finds the decrypted reference.
 */
export async function loadDemoMedia(options: DemoOptions): Promise<DemoMedia> {
  if (options.encrypted) {
    const encrypted = await loadEncryptedClip();
    return {
      path: encrypted.path,
      movie: encrypted.movie,
      encrypted,
      bundledClip: encrypted,
      trackNotes: [],
      demuxCheck: await checkDemuxer(encrypted.movie, encrypted.clearPath, true),
      reference: { label: "clear", phrase: "equals the clear clip's" },
    };
  }
  const path = options.file ?? DEMO_CLIP_PATH;
  const selected = selectTracks(await demuxMp4File(path), options);
  const { movie } = selected;
  const trackNotes = [...selected.warnings, ...selected.notChosen];
  const demuxCheck = await checkDemuxer(movie, path, options.file === undefined);
  const scheme = movie.tracks.find((t) => t.scheme !== undefined)?.scheme;
  const material = await readKeyMaterial(options.keys ?? [], options.keysFile);
  if (scheme === undefined) {
    if (material.size > 0 || options.clearFile !== undefined) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `"${path}" is not encrypted: --key, --keys and --clear do not apply`,
      );
    }
    const reference = { label: "file", phrase: "equals the file's" };
    return { path, movie, trackNotes, demuxCheck, reference };
  }
  if (material.size === 0) {
    const ids = [...new Set(movie.tracks.flatMap((t) => t.keyIds))].join(", ");
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `"${path}" is encrypted (${scheme}, key id ${ids}): give its keys with --key KID:KEY or --keys FILE`,
    );
  }
  const encrypted = encryptedFileMedia(movie, material);
  const reference = await decryptedReference(movie, path, material, options.clearFile);
  return { path, movie, encrypted, trackNotes, demuxCheck, reference };
}

function shownPath(path: string): string {
  return path.startsWith(process.cwd()) ? relative(process.cwd(), path) : path;
}

function describeMedia(media: DemoMedia, options: DemoOptions): string[] {
  const { path, movie, encrypted, bundledClip } = media;
  const lines = [`  file      ${shownPath(path)} (${(movie.durationNs / 1e9).toFixed(2)} s)`];
  if (bundledClip !== undefined) {
    lines.push(
      `  cipher    ${bundledClip.scheme} (AES-128-CTR), key id ${bundledClip.keyId}`,
      `  clear     ${shownPath(bundledClip.clearPath)} (its track layout; the samples to match)`,
    );
  } else if (encrypted !== undefined) {
    lines.push(
      `  cipher    ${encrypted.scheme}, key id ${encrypted.keyIds.join(", ")}; license from ${encrypted.initDataType} init data`,
      `  reference ${media.reference.label}: the decrypted samples' checksums must ${media.reference.phrase.replace("equals", "equal")}`,
    );
  }
  for (const track of movie.tracks) {
    const detail =
      track.type === "video"
        ? `${track.width}x${track.height}`
        : `${track.sampleRate} Hz ${track.channels} ch`;
    lines.push(
      `  ${track.type.padEnd(8)}  track ${track.id}: ${track.codec} (${track.mimeType}) ${detail}, ${track.samples.length} samples`,
    );
  }
  for (const note of media.trackNotes) lines.push(`  ${note}`);
  for (const line of media.demuxCheck.lines) lines.push(`  demuxer   ${line}`);
  const clock = options.fast ? "freerun clock (--fast)" : "realtime clock";
  const engine =
    options.engine === "gstreamer"
      ? "GStreamer decoding in the session server"
      : "virtual renderer in the session server";
  lines.push(`  playback  ${clock}, ${options.sink} sink; ${engine}`);
  return lines;
}

/**
 * The demo: an in-process server manager (no daemon) starts the app's session server Active;
 * the app's client connects to the socket the manager hands out, goes Running (maps the AV
 * shared memory) and plays the movie through a media pipeline, feeding samples on
 * needMediaData; then the app goes Inactive and NotRunning. With `--switch`, app 1 plays until
 * the middle, is made Inactive (its pipeline is freed), and app 2 is made Active and plays.
 * Prints the checks and the lifecycle timeline; resolves true only when every sample of the
 * final playback was rendered and each source's checksum equals the file's.
 */
export async function runDemo(
  options: DemoOptions,
  media: DemoMedia,
  out: DemoOutput,
): Promise<boolean> {
  out.line("Rialto for Bun demo");
  for (const line of describeMedia(media, options)) out.line(line);
  out.line();
  const timeline = new LifecycleTimeline();
  const config: AppConfig = {
    playback: {
      engine: options.engine,
      clock: options.fast ? "freerun" : "realtime",
      sink: options.sink,
    },
    resources: { maxPlaybackSessions: 1 },
    ...(options.snapshot === undefined
      ? {}
      : { env: { [SNAPSHOT_ENV]: resolve(options.snapshot) } }),
  };
  // A decoding engine is checked against what ffmpeg decodes, not against the compressed samples.
  const decoded =
    options.engine === "gstreamer" ? await decodedReferenceOf(media, options) : undefined;
  await using manager = new ServerManager({
    logLevel: "warn",
    sessionServerCommand: sessionServerCommand(),
    // A cold Bun start of the session server can take over the 1 s default on a busy machine.
    readyTimeoutMs: STEP_TIMEOUT_MS,
  });
  await using webMonitor =
    options.monitorHttpPort === undefined
      ? undefined
      : startMonitorHttp(manager, { hostname: "127.0.0.1", port: options.monitorHttpPort });
  if (webMonitor !== undefined) out.line(`web monitor: ${webMonitor.url}`);
  manager.on("stateChanged", (appId, state) =>
    timeline.record("manager", `stateChanged(${appId}, ${state})`),
  );
  // What an external `rialtoctl monitor` would see, in-process: SPEC 4's client_events.
  const monitor = manager.addMonitor((message) =>
    timeline.record("monitor", describeMonitorMessage(message)),
  );
  const play: Play = async (app, alongside) => {
    const { encrypted } = media;
    await using license =
      encrypted === undefined
        ? undefined
        : await ClearKeyLicense.acquire(app, encrypted, { timeline, line: out.line });
    // `return await`: the license must outlive the playback, not just its start.
    return await playOnApp(app, media.movie, {
      timeline,
      progress: new ProgressLine(out.progress, options.switchApps ? app.appId : ""),
      segmentOf: license && encrypted?.segmentsFor(license.keySessionId),
      decodeOrder: options.engine === "gstreamer",
      alongside,
    });
  };
  const start = (appId: string, state: "Active" | "Inactive") =>
    DemoApp.start(manager, appId, state, config, timeline);
  const result = await (options.switchApps
    ? switchApps(start, play, media.movie, timeline, out)
    : playOneApp(start, play)
  ).finally(() => monitor.close());

  const verb = result.end === "EndOfStream" ? "played to EndOfStream" : "released early";
  out.line(`${verb} in ${(result.elapsedMs / 1000).toFixed(2)} s of wall time`);
  out.line();
  const checks = checkOutcomes(
    result.outcomes,
    decoded !== undefined
      ? expectedDecoded(decoded)
      : media.reference.expected && expectedByTrackId(media.reference.expected),
  );
  const label =
    decoded === undefined ? media.reference.label : decoded === null ? "decoded" : decoded.source;
  for (const check of checks) {
    for (const line of formatCheck(check, label)) out.line(line);
  }
  if (options.snapshot !== undefined) {
    const written = await Bun.file(resolve(options.snapshot)).exists();
    out.line(
      written
        ? `snapshot  ${options.snapshot}: a contact sheet of the decoded video (PNG)`
        : `snapshot  ${options.snapshot}: not written (no decoded video reached an appsink)`,
    );
  }
  out.line();
  out.line("lifecycle timeline");
  for (const line of timeline.lines()) out.line(line);
  out.line();
  const ok =
    result.end === "EndOfStream" &&
    checks.length === media.movie.tracks.length &&
    checks.every((c) => c.ok) &&
    media.demuxCheck.ok;
  const rendered = media.encrypted === undefined ? "rendered" : "decrypted and rendered";
  const success =
    decoded === undefined
      ? `every sample ${rendered}, and each source's checksum ${media.reference.phrase}; ${media.demuxCheck.phrase}`
      : decoded === null || options.sink === "device"
        ? `every frame decoded and rendered (no reference to compare the pictures with); ${media.demuxCheck.phrase}`
        : `every frame decoded and rendered, and each track's decoded hash equals ${decoded.source === "golden" ? "the golden value ffmpeg made" : "ffmpeg's decoding of the file"}; ${media.demuxCheck.phrase}`;
  out.line(
    ok
      ? `demo OK: ${success}`
      : media.demuxCheck.ok
        ? "demo FAILED: not every sample was rendered, or a checksum differs"
        : `demo FAILED: the demuxer does not read the file as ffprobe does (${media.demuxCheck.phrase})`,
  );
  return ok;
}

/** Plays the movie on one app's client, with `alongside` running beside the playback. */
type Play = (
  app: DemoApp,
  alongside?: AppPlaybackOptions["alongside"],
) => Promise<AppPlaybackResult>;

/** Initiates an app (with the demo's config) and waits for its state. */
type Start = (appId: string, state: "Active" | "Inactive") => Promise<DemoApp>;

async function playOneApp(start: Start, play: Play): Promise<AppPlaybackResult> {
  await using app = await start("demo", "Active");
  await app.connect();
  await app.run();
  const result = await play(app);
  await app.change("Inactive");
  await app.clientState("Inactive");
  await app.change("NotRunning");
  return result;
}

async function switchApps(
  start: Start,
  play: Play,
  movie: DemuxedMovie,
  timeline: LifecycleTimeline,
  out: DemoOutput,
): Promise<AppPlaybackResult> {
  await using first = await start("demo-1", "Active");
  await using second = await start("demo-2", "Inactive");
  await first.connect();
  await second.connect();
  await first.run();
  const middleNs = Math.floor(movie.durationNs / 2);
  const firstResult = await play(first, async (player, checkpoint) => {
    // The user leaves app 1 in the middle: it feeds up to there, and once that is rendered
    // the application manager hands the decoders to app 2.
    for (const feeder of player.feeders) feeder.holdAt(middleNs);
    const outcomes = await renderedUpToHold(player, checkpoint, middleNs);
    const frames = outcomes.map(({ track, stats }) => `${stats.renderedFrames} ${track.type}`);
    timeline.record("demo", `demo-1 rendered ${frames.join(" + ")} frames; switching apps`);
    await first.change("Inactive");
  });
  await first.clientState("Inactive");
  const how = firstResult.end === "released" ? "pipeline released by the switch" : "ended";
  out.line(`demo-1: ${how}`);
  await second.change("Active");
  await second.run();
  const result = await play(second);
  await second.change("Inactive");
  await first.change("NotRunning");
  await second.change("NotRunning");
  return result;
}

/** How far before the hold point the position may stop when a decoder keeps its last frames. */
const HOLD_SLACK_NS = 100_000_000;

/**
 * Waits until every feeder holds a request and every sample it fed was rendered (or the
 * position reached the hold point).
 */
async function renderedUpToHold(
  player: ClipPlayer,
  checkpoint: Checkpoint,
  holdNs: number,
): Promise<readonly SourceOutcome[]> {
  const deadline = performance.now() + STEP_TIMEOUT_MS + player.movie.durationNs / 1e6;
  for (;;) {
    if (player.feeders.every((f) => f.holding)) {
      const outcomes = await checkpoint();
      const allRendered = outcomes.every(
        (o) => o.stats.renderedFrames + o.stats.droppedFrames >= o.fed,
      );
      // A decoder may keep its last input until more comes: then the position tells instead.
      if (allRendered || (await player.pipeline.getPosition()) >= holdNs - HOLD_SLACK_NS) {
        return outcomes;
      }
    }
    if (performance.now() > deadline) {
      throw new RialtoError("TIMEOUT", "demo-1 did not render up to the middle in time");
    }
    await Bun.sleep(20);
  }
}

import { parseArgs } from "node:util";
import { RialtoError } from "@rialto/protocol";

/** What the demo was asked to do. */
export interface DemoOptions {
  /** Play as fast as data arrives (`freerun` clock) instead of in real time. */
  readonly fast: boolean;
  /** The MP4 to play; undefined: the bundled clip (`media/clip.mp4`). */
  readonly file: string | undefined;
  /** Two apps hand the decoders over: app 1 is made Inactive mid-playback, then app 2 plays. */
  readonly switchApps: boolean;
  /**
   * Play the bundled CENC-encrypted clip (`media/encrypted/clip-cenc.mp4`), its key obtained
   * through the ClearKey license flow, decrypted in the session server.
   */
  readonly encrypted: boolean;
  /** The MP4 track id of the audio track to play; undefined: the first playable one. */
  readonly audioTrack?: number;
  /** The MP4 track id of the video track to play; undefined: the first playable one. */
  readonly videoTrack?: number;
  /** `--key KID:KEY` values (hex), in order: keys of an encrypted `--file`. */
  readonly keys?: readonly string[];
  /** `--keys FILE`: a ClearKey JWK set with the keys of an encrypted `--file`. */
  readonly keysFile?: string;
  /** `--clear FILE`: the clear original of an encrypted `--file` (the checksum reference). */
  readonly clearFile?: string;
  /** The session server's media engine: `virtual` (default) or `gstreamer` (real decoding). */
  readonly engine: "virtual" | "gstreamer";
  /** The sink: `checksum` (default; checked against a reference) or `device` (shown and heard). */
  readonly sink: "checksum" | "device";
  /** With the GStreamer engine: write a PNG contact sheet of decoded video frames here. */
  readonly snapshot: string | undefined;
  /**
   * Serve the server manager's web monitor (`/`, `/metrics`, `/api/*`) on 127.0.0.1 at this port
   * while the demo runs (0: a free port); undefined: no web monitor.
   */
  readonly monitorHttpPort?: number;
  /** Print the usage and exit. */
  readonly help: boolean;
}

/** The usage text of the demo. */
export const DEMO_USAGE = `usage: bun apps/demo-app/src/main.ts [--fast] [--switch] [--audio-track N] [--video-track N]
          [--file PATH [--key KID:KEY]... [--keys FILE] [--clear FILE] | --encrypted]
          [--engine virtual|gstreamer] [--sink checksum|device] [--snapshot PATH]
          [--monitor-http PORT]

Plays an MP4 (H.264 / H.265 / AAC / Opus / AC-3 / E-AC-3, clear or CENC cenc / cbcs) through a
server manager, a session server and the client library, in real time, and checks what was
rendered against the file's samples (and the demuxer against ffprobe) on the virtual engine, or
against what ffmpeg decodes from the file on the GStreamer engine.

  --fast        freerun clock: play as fast as the data arrives
  --file PATH   play this MP4 instead of the bundled clip (media/clip.mp4)
  --encrypted   play the bundled cenc-encrypted clip (media/encrypted/clip-cenc.mp4): the app
                gets its key through the ClearKey license flow (this demo is the license
                server), the session server decrypts every sample, and the rendered checksums
                must equal the clear clip's; cannot be combined with --file
  --switch      two apps hand the decoders over: app 1 plays until the middle, is made
                Inactive, then app 2 is made Active and plays the whole file
  --audio-track N, --video-track N
                play the track with MP4 track id N (default: the first playable one of each
                kind); tracks that cannot be played are skipped with one warning line each
  --key KID:KEY the key (32 hex digits each) of an encrypted --file; repeatable
  --keys FILE   a ClearKey JWK set ({"keys":[{"kty":"oct","kid":...,"k":...}]}) with the keys
                of an encrypted --file; the app gets them through the ClearKey license flow
  --clear FILE  the clear original of an encrypted --file: its samples are the reference
                (default: ffmpeg's own decryption when ffmpeg is on PATH)
  --engine E    the session server's engine: virtual (default: schedules and checksums the
                compressed samples) or gstreamer (decodes them; needs GStreamer, see README);
                the decoded output must equal ffmpeg's (committed golden values for the
                bundled clip, ffmpeg itself for --file when it is on PATH)
  --sink S      checksum (default) or device: the platform's video and audio sinks (a window
                and the sound card; GStreamer engine only), checked by frame counts
  --snapshot P  GStreamer engine: write a PNG contact sheet of decoded video frames to P
  --monitor-http PORT
                serve the in-process server manager's web monitor on 127.0.0.1:PORT while
                the demo runs (0 picks a free port; the address is printed)
  --help        this text`;

function oneOf<T extends string>(name: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new RialtoError("INVALID_ARGUMENT", `${name} "${value}" is not ${choices.join(" or ")}`);
  }
  return value as T;
}

function trackId(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id < 1) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `${name} needs an MP4 track id (1, 2, ...), not "${value}"`,
    );
  }
  return id;
}

function port(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535) {
    throw new RialtoError("INVALID_ARGUMENT", `${name} "${value}" is not a port 0 .. 65535`);
  }
  return Number(value);
}

/** Drops the keys whose value is undefined (the options' optional fields stay absent). */
function defined<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Parses the demo's command-line arguments (without the runtime and script).
 *
 * @throws RialtoError `INVALID_ARGUMENT` naming the offending argument.
 */
export function parseDemoOptions(args: readonly string[]): DemoOptions {
  let values: ReturnType<typeof parse>["values"];
  try {
    ({ values } = parse(args));
  } catch (error) {
    throw new RialtoError("INVALID_ARGUMENT", `${(error as Error).message} (see --help)`);
  }
  for (const [name, value] of Object.entries(values)) {
    if (value === "")
      throw new RialtoError("INVALID_ARGUMENT", `--${name} needs a value (see --help)`);
  }
  const file = values.file;
  const encrypted = values.encrypted === true;
  const keys = values.key ?? [];
  const engine = oneOf("--engine", values.engine ?? "virtual", ["virtual", "gstreamer"] as const);
  const sink = oneOf("--sink", values.sink ?? "checksum", ["checksum", "device"] as const);
  const snapshot = values.snapshot;
  if (encrypted && file !== undefined) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `--encrypted plays the bundled encrypted clip (media/encrypted/clip-cenc.mp4) and cannot play --file "${file}"`,
    );
  }
  const needsFile = keys.length > 0 || values.keys !== undefined || values.clear !== undefined;
  if (needsFile && file === undefined) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      "--key, --keys and --clear go with an encrypted --file (the bundled --encrypted clip has its own key)",
    );
  }
  if (engine !== "gstreamer" && (sink === "device" || snapshot !== undefined)) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `${sink === "device" ? "--sink device" : "--snapshot"} needs --engine gstreamer`,
    );
  }
  return {
    fast: values.fast === true,
    file,
    switchApps: values.switch === true,
    encrypted,
    help: values.help === true,
    engine,
    sink,
    snapshot,
    keys,
    ...defined({
      audioTrack: trackId("--audio-track", values["audio-track"]),
      videoTrack: trackId("--video-track", values["video-track"]),
      keysFile: values.keys,
      clearFile: values.clear,
      monitorHttpPort: port("--monitor-http", values["monitor-http"]),
    }),
  };
}

function parse(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    options: {
      fast: { type: "boolean" },
      switch: { type: "boolean" },
      encrypted: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      file: { type: "string" },
      "audio-track": { type: "string" },
      "video-track": { type: "string" },
      key: { type: "string", multiple: true },
      keys: { type: "string" },
      clear: { type: "string" },
      engine: { type: "string" },
      sink: { type: "string" },
      snapshot: { type: "string" },
      "monitor-http": { type: "string" },
    },
    strict: true,
    allowPositionals: false,
  });
}

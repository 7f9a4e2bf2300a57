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
  readonly monitorHttpPort: number | undefined;
  /** Print the usage and exit. */
  readonly help: boolean;
}

/** The usage text of the demo. */
export const DEMO_USAGE = `usage: bun apps/demo-app/src/main.ts [--fast] [--file PATH | --encrypted] [--switch]
                                    [--engine virtual|gstreamer] [--sink checksum|device]
                                    [--snapshot PATH] [--monitor-http PORT]

Plays an MP4 (H.264 / H.265 / AAC) through a server manager, a session server and the client
library, in real time, and checks what was rendered against the file's samples (virtual
engine) or against what ffmpeg decodes from the file (GStreamer engine).

  --fast        freerun clock: play as fast as the data arrives
  --file PATH   play this MP4 instead of the bundled clip (media/clip.mp4)
  --encrypted   play the bundled cenc-encrypted clip (media/encrypted/clip-cenc.mp4): the app
                gets its key through the ClearKey license flow (this demo is the license
                server), the session server decrypts every sample, and the rendered checksums
                must equal the clear clip's; cannot be combined with --file
  --switch      two apps hand the decoders over: app 1 plays until the middle, is made
                Inactive, then app 2 is made Active and plays the whole file
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

/**
 * Parses the demo's command-line arguments (without the runtime and script).
 *
 * @throws RialtoError `INVALID_ARGUMENT` naming the offending argument.
 */
export function parseDemoOptions(args: readonly string[]): DemoOptions {
  let fast = false;
  let file: string | undefined;
  let switchApps = false;
  let encrypted = false;
  let help = false;
  let engine: DemoOptions["engine"] = "virtual";
  let sink: DemoOptions["sink"] = "checksum";
  let snapshot: string | undefined;
  let monitorHttpPort: number | undefined;
  const flagValue = (name: string, i: number): [string, number] => {
    const arg = args[i] as string;
    const value = arg === name ? args[i + 1] : arg.slice(name.length + 1);
    if (value === undefined || value === "") {
      throw new RialtoError("INVALID_ARGUMENT", `${name} needs a value (see --help)`);
    }
    return [value, arg === name ? i + 1 : i];
  };
  const isFlag = (arg: string, name: string) => arg === name || arg.startsWith(`${name}=`);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--fast") fast = true;
    else if (arg === "--switch") switchApps = true;
    else if (arg === "--encrypted") encrypted = true;
    else if (arg === "--help" || arg === "-h") help = true;
    else if (isFlag(arg, "--engine")) {
      const [value, next] = flagValue("--engine", i);
      if (value !== "virtual" && value !== "gstreamer") {
        throw new RialtoError(
          "INVALID_ARGUMENT",
          `--engine "${value}" is not virtual or gstreamer`,
        );
      }
      engine = value;
      i = next;
    } else if (isFlag(arg, "--sink")) {
      const [value, next] = flagValue("--sink", i);
      if (value !== "checksum" && value !== "device") {
        throw new RialtoError("INVALID_ARGUMENT", `--sink "${value}" is not checksum or device`);
      }
      sink = value;
      i = next;
    } else if (isFlag(arg, "--monitor-http")) {
      let value: string;
      [value, i] = flagValue("--monitor-http", i);
      if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535) {
        throw new RialtoError(
          "INVALID_ARGUMENT",
          `--monitor-http "${value}" is not a port 0 .. 65535`,
        );
      }
      monitorHttpPort = Number(value);
    } else if (isFlag(arg, "--snapshot")) {
      [snapshot, i] = flagValue("--snapshot", i);
    } else if (arg === "--file" || arg.startsWith("--file=")) {
      const value = arg === "--file" ? args[++i] : arg.slice("--file=".length);
      if (value === undefined || value === "") {
        throw new RialtoError("INVALID_ARGUMENT", "--file needs a path");
      }
      file = value;
    } else {
      throw new RialtoError("INVALID_ARGUMENT", `unknown argument "${arg}" (see --help)`);
    }
  }
  if (encrypted && file !== undefined) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `--encrypted plays the bundled encrypted clip (media/encrypted/clip-cenc.mp4) and cannot play --file "${file}"`,
    );
  }
  if (engine !== "gstreamer" && (sink === "device" || snapshot !== undefined)) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `${sink === "device" ? "--sink device" : "--snapshot"} needs --engine gstreamer`,
    );
  }
  return { fast, file, switchApps, encrypted, engine, sink, snapshot, monitorHttpPort, help };
}

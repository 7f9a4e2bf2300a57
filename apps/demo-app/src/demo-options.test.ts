import { describe, expect, it } from "bun:test";
import type { RialtoError } from "@rialto/protocol";
import { parseDemoOptions } from "./demo-options.ts";

const refusal = (args: string[]) => {
  try {
    parseDemoOptions(args);
  } catch (error) {
    return error as RialtoError;
  }
  throw new Error(`accepted ${args.join(" ")}`);
};

describe("parseDemoOptions", () => {
  it("reads every option, in both --name value and --name=value forms", () => {
    const options = parseDemoOptions([
      "--fast",
      "--file=movie.mp4",
      "--key",
      "00:11",
      "--key=22:33",
      "--keys",
      "keys.json",
      "--clear",
      "clear.mp4",
      "--audio-track",
      "3",
      "--video-track=1",
      "--engine",
      "gstreamer",
      "--sink=device",
      "--snapshot",
      "sheet.png",
      "--monitor-http",
      "0",
    ]);
    expect(options).toEqual({
      fast: true,
      file: "movie.mp4",
      switchApps: false,
      encrypted: false,
      help: false,
      engine: "gstreamer",
      sink: "device",
      snapshot: "sheet.png",
      keys: ["00:11", "22:33"],
      audioTrack: 3,
      videoTrack: 1,
      keysFile: "keys.json",
      clearFile: "clear.mp4",
      monitorHttpPort: 0,
    });
  });

  it("defaults to the bundled clip on the virtual engine with the checksum sink", () => {
    expect(parseDemoOptions([])).toEqual({
      fast: false,
      file: undefined,
      switchApps: false,
      encrypted: false,
      help: false,
      engine: "virtual",
      sink: "checksum",
      snapshot: undefined,
      keys: [],
    });
  });

  it("refuses what it cannot use with INVALID_ARGUMENT naming it", () => {
    const cases: [string[], string][] = [
      [["--nope"], "--nope"],
      [["--file"], "--file"],
      [["--file="], "--file needs a value"],
      [["--engine", "vlc"], '--engine "vlc" is not virtual or gstreamer'],
      [["--audio-track", "0"], "--audio-track needs an MP4 track id"],
      [["--monitor-http", "70000"], '--monitor-http "70000" is not a port'],
      [["--encrypted", "--file", "a.mp4"], "cannot play --file"],
      [["--key", "00:11"], "go with an encrypted --file"],
      [["--sink", "device"], "--sink device needs --engine gstreamer"],
      [["extra"], "extra"],
    ];
    for (const [args, message] of cases) {
      const error = refusal(args);
      expect(error.code).toBe("INVALID_ARGUMENT");
      expect(error.message).toContain(message);
    }
  });
});

import { fileURLToPath } from "node:url";
import type { CreateWebAudioPlayerParams } from "@rialto/protocol";
import type { Subprocess } from "bun";
import type { HeldResources } from "./media-holder-client.ts";
import { WAIT_MS } from "./wait.ts";

/** The player the holder takes (mono 16-bit at 8 kHz); any client may ask for the same. */
export const HOLDER_PLAYER: CreateWebAudioPlayerParams = {
  mimeType: "audio/x-raw",
  pcm: {
    rate: 8000,
    channels: 1,
    sampleSize: 16,
    isBigEndian: false,
    isSigned: true,
    isFloat: false,
  },
};

const HOLDER = fileURLToPath(new URL("./media-holder-client.ts", import.meta.url));

/** A client process holding a key session and a web-audio player (see media-holder-client.ts). */
export interface MediaHolder extends AsyncDisposable {
  readonly pid: number;
  readonly held: HeldResources;
  /** Kills it with SIGKILL (no goodbye to the server) and waits for its exit. */
  kill(): Promise<void>;
}

/** Starts the holder against `socketPath` and waits (with a deadline) for its resource ids. */
export async function startMediaHolder(socketPath: string): Promise<MediaHolder> {
  const child: Subprocess<"ignore", "pipe", "inherit"> = Bun.spawn({
    cmd: [process.execPath, HOLDER, socketPath],
    stdio: ["ignore", "pipe", "inherit"],
  });
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await child.exited;
  };
  const deadline = setTimeout(() => child.kill("SIGKILL"), WAIT_MS);
  try {
    let text = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      text += decoder.decode(chunk, { stream: true });
      if (text.includes("\n")) break;
    }
    if (!text.includes("\n")) throw new Error(`media holder ${child.pid} exited before its ids`);
    const held = JSON.parse(text.slice(0, text.indexOf("\n"))) as HeldResources;
    return { pid: child.pid, held, kill, [Symbol.asyncDispose]: kill };
  } catch (error) {
    await kill();
    throw error;
  } finally {
    clearTimeout(deadline);
  }
}

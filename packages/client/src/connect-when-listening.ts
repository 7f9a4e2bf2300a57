import { connectUnix, RialtoError, type SocketTransport } from "@rialto/protocol";

/** Errno codes that mean "nothing listens there yet" (the session server is still starting). */
const NOT_LISTENING = new Set(["ENOENT", "ECONNREFUSED"]);
const FIRST_PAUSE_MS = 10;
const LONGEST_PAUSE_MS = 200;

/** The first "not listening" errno code (`ENOENT`, `ECONNREFUSED`) in `error`'s cause chain. */
function notListeningCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && NOT_LISTENING.has(code)) return code;
    e = e.cause;
  }
  return undefined;
}

/**
 * Connects to the session server's client socket at `path`; while nothing listens there yet
 * (no socket file: ENOENT, or no listener: ECONNREFUSED) retries for up to `retryMs`
 * (10 ms, doubling to 200 ms between tries), then rejects CONNECTION_LOST naming the likely
 * cause: the app was not started, or has not reached Inactive or Active yet.
 */
export async function connectWhenListening(
  path: string,
  retryMs: number,
): Promise<SocketTransport> {
  const deadline = performance.now() + retryMs;
  let pause = FIRST_PAUSE_MS;
  for (;;) {
    try {
      return await connectUnix(path);
    } catch (error) {
      const errno = notListeningCode(error);
      if (errno === undefined) throw error;
      const left = deadline - performance.now();
      if (left <= 0) throw notListening(path, errno, retryMs, error);
      await Bun.sleep(Math.min(pause, left));
      pause = Math.min(pause * 2, LONGEST_PAUSE_MS);
    }
  }
}

function notListening(path: string, errno: string, retryMs: number, cause: unknown): RialtoError {
  const what =
    errno === "ENOENT"
      ? "no socket file exists there"
      : "the socket file exists but nobody accepts";
  return new RialtoError(
    "CONNECTION_LOST",
    `RialtoClient.connect: nothing listens on ${path} after ${retryMs} ms (${errno}: ${what}). ` +
      "Is the app started (ServerManager.initiateApplication) and has its session server reached " +
      'Inactive or Active (await manager.waitForState(appId, "Active"))? Is RIALTO_SOCKET_PATH ' +
      "the path getAppConnectionInfo(appId) gives?",
    { cause },
  );
}

import { randomBytes } from "node:crypto";
import { chmodSync, lstatSync, mkdirSync } from "node:fs";
import { RialtoError } from "@rialto/protocol";

/** Longest runtime dir accepted, in bytes: leaves room for socket names within sun_path (107). */
export const MAX_RUNTIME_DIR_LENGTH = 80;

/** Longest Unix socket path, in bytes (sun_path minus the terminating NUL). */
export const MAX_SOCKET_PATH_LENGTH = 107;

/** The default runtime dir (SPEC 3.1): `$XDG_RUNTIME_DIR/rialto`, else `/tmp/rialto-<uid>`. */
export function defaultRuntimeDir(env: Record<string, string | undefined>): string {
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg?.startsWith("/")) return `${xdg.replace(/\/+$/, "")}/rialto`;
  return `/tmp/rialto-${process.getuid?.() ?? 0}`;
}

/**
 * Creates the runtime dir 0700 (parents too) or checks an existing one: it must be a directory
 * owned by us (PERMISSION_DENIED otherwise, since another user's dir could hijack our sockets);
 * a looser mode is tightened to 0700.
 */
export function ensureRuntimeDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new RialtoError(
      "PERMISSION_DENIED",
      `cannot create runtime dir ${dir}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const stat = lstatSync(dir);
  if (!stat.isDirectory()) {
    throw new RialtoError("INVALID_ARGUMENT", `runtime dir ${dir} is not a directory`);
  }
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    throw new RialtoError(
      "PERMISSION_DENIED",
      `runtime dir ${dir} belongs to uid ${stat.uid}, not to us (uid ${uid})`,
    );
  }
  if ((stat.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
}

/**
 * The client socket path of an app (SPEC 3.1): no name → a unique file in the runtime dir;
 * a name starting with `/` → used as is; any other name → a file of that name in the runtime dir.
 * Throws INVALID_ARGUMENT when the path would not fit in sun_path (107 bytes).
 */
export function resolveSocketPath(runtimeDir: string, appId: string, name?: string): string {
  let path: string;
  if (name === undefined) {
    path = `${runtimeDir}/${appId}-${randomBytes(4).toString("hex")}.sock`;
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH_LENGTH) {
      path = `${runtimeDir}/s-${randomBytes(8).toString("hex")}.sock`;
    }
  } else {
    path = name.startsWith("/") ? name : `${runtimeDir}/${name}`;
  }
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_LENGTH) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `socket path ${JSON.stringify(path)} is longer than ${MAX_SOCKET_PATH_LENGTH} bytes`,
    );
  }
  return path;
}

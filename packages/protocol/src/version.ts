import { RialtoError } from "./errors.ts";

/**
 * The protocol version (semver). The major number changes with every incompatible change to a
 * message schema; `schemas/*.json` holds the exported schemas the compatibility test compares.
 */
export const PROTOCOL_VERSION = "1.0.0";

/** A parsed semantic version. */
export interface SemanticVersion {
  major: number;
  minor: number;
  patch: number;
}

const SEMVER = /^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})$/;

/** Parses `major.minor.patch`; throws INVALID_ARGUMENT for anything else. */
export function parseVersion(version: string): SemanticVersion {
  const match = SEMVER.exec(version);
  if (match === null) {
    throw new RialtoError("INVALID_ARGUMENT", `not a semantic version: "${version.slice(0, 40)}"`);
  }
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]) };
}

/** Two peers can talk when their protocol versions share the major number. */
export function isCompatibleVersion(peerVersion: string, ownVersion = PROTOCOL_VERSION): boolean {
  try {
    return parseVersion(peerVersion).major === parseVersion(ownVersion).major;
  } catch {
    return false;
  }
}

/** Throws INCOMPATIBLE_VERSION unless `peerVersion` has the same major as ours. */
export function assertCompatibleVersion(peerVersion: string, ownVersion = PROTOCOL_VERSION): void {
  if (!isCompatibleVersion(peerVersion, ownVersion)) {
    throw new RialtoError(
      "INCOMPATIBLE_VERSION",
      `protocol version ${JSON.stringify(peerVersion).slice(0, 40)} is incompatible with ${ownVersion} (major must match)`,
    );
  }
}

import { describe, expect, it } from "bun:test";
import {
  ERROR_CODES,
  MAX_PLAYBACK_SESSIONS,
  MAX_WEB_AUDIO_PLAYERS,
  RialtoError,
  SHM_ERROR_CODE_MAP,
  SHM_POOL_DEFAULT_SIZE,
  SHM_POOL_MAX_SIZE,
  SHM_POOL_MIN_SIZE,
  toRialtoError,
} from "@rialto/protocol";
import {
  AV_MAX_PARTITIONS,
  POOL_DEFAULT_SIZE,
  POOL_MAX_SIZE,
  POOL_MIN_SIZE,
  SHM_ERROR_CODES,
  ShmError,
} from "@rialto/shm";

// @rialto/protocol (the wire) and @rialto/shm (the memory) depend on nothing of each other; the
// client, which uses both, pins what they must agree on.
describe("what @rialto/protocol and @rialto/shm share", () => {
  it("the shared-memory pool limits are the same numbers on the wire and in the pool", () => {
    expect([SHM_POOL_MIN_SIZE, SHM_POOL_DEFAULT_SIZE, SHM_POOL_MAX_SIZE]).toEqual([
      POOL_MIN_SIZE,
      POOL_DEFAULT_SIZE,
      POOL_MAX_SIZE,
    ]);
    expect(MAX_PLAYBACK_SESSIONS + MAX_WEB_AUDIO_PLAYERS).toBeLessThanOrEqual(AV_MAX_PARTITIONS);
  });

  it("every ShmError code maps to a RialtoError code, and toRialtoError applies the table", () => {
    expect(Object.keys(SHM_ERROR_CODE_MAP).toSorted()).toEqual([...SHM_ERROR_CODES].toSorted());
    for (const code of SHM_ERROR_CODES) {
      const mapped = toRialtoError(new ShmError(code, `a ${code} failure`));
      expect(mapped).toBeInstanceOf(RialtoError);
      expect(ERROR_CODES).toContain(mapped.code);
      expect(mapped.code).toBe(SHM_ERROR_CODE_MAP[code] as RialtoError["code"]);
      expect(mapped.details).toEqual({ shmCode: code });
    }
    expect(toRialtoError(new ShmError("PEER_CLOSED", "gone")).code).toBe("CONNECTION_LOST");
    const emfile = new ShmError("ERRNO", "memfd_create failed", {
      errno: "EMFILE",
      syscall: "memfd_create",
    });
    expect(toRialtoError(emfile)).toMatchObject({
      code: "RESOURCE_EXHAUSTED",
      details: { shmCode: "ERRNO", errno: "EMFILE" },
    });
  });
});

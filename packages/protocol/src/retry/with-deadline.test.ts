import { describe, expect, it } from "bun:test";
import { RialtoError } from "../errors.ts";
import { withDeadline } from "./with-deadline.ts";

const late = () => new RialtoError("TIMEOUT", "too late");

describe("withDeadline", () => {
  it("settles like the work when it finishes in time", async () => {
    expect(await withDeadline(Promise.resolve(5), 1000, late)).toBe(5);
    await expect(
      withDeadline(Promise.reject(new RialtoError("INVALID_STATE", "no")), 1000, late),
    ).rejects.toMatchObject({ code: "INVALID_STATE" });
  });

  it("rejects with the timeout error when the work takes longer", async () => {
    await expect(withDeadline(new Promise(() => {}), 5, late)).rejects.toMatchObject({
      code: "TIMEOUT",
      message: "too late",
    });
  });
});

import { describe, expect, it } from "bun:test";
import { HandleAllocator } from "./handle-allocator.ts";

describe("HandleAllocator", () => {
  it("counts from 1 and skips handles still in use", () => {
    const taken = new Set([2, 3]);
    const allocator = new HandleAllocator("test id", (id) => taken.has(id));
    expect([allocator.allocate(), allocator.allocate(), allocator.allocate()]).toEqual([1, 4, 5]);
  });
});

import { describe, expect, it } from "bun:test";
import { TestMethods } from "../test-support/test-methods.ts";
import { EventLog } from "./event-log.ts";
import { EventSequence } from "./event-sequence.ts";

const tick = TestMethods.tick;

describe("EventLog", () => {
  it("numbers events from 1 and keeps them until acknowledged", () => {
    const log = new EventLog(100);
    for (let n = 0; n < 5; n++) log.append(tick, { n });
    expect(log.pending().map((event) => event.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(log.acknowledge(3)).toBe(3);
    expect(log.pending().map((event) => event.seq)).toEqual([4, 5]);
    expect(log.acknowledge(2)).toBe(0);
  });

  it("ignores an acknowledgement of events it never numbered", () => {
    const log = new EventLog(100);
    log.append(tick, { n: 1 });
    log.acknowledge(50);
    expect(log.acknowledged).toBe(1);
    log.append(tick, { n: 2 });
    expect(log.pending().map((event) => event.seq)).toEqual([2]);
  });

  it("drops the oldest events past its capacity and counts them", () => {
    const log = new EventLog(3);
    for (let n = 0; n < 5; n++) log.append(tick, { n });
    expect(log.pending().map((event) => event.seq)).toEqual([3, 4, 5]);
    expect(log.dropped).toBe(2);
  });

  it("stays correct across many appends and acknowledgements", () => {
    const log = new EventLog(10_000);
    for (let n = 1; n <= 5000; n++) {
      log.append(tick, { n });
      if (n % 7 === 0) log.acknowledge(n - 3);
    }
    expect(log.pending()[0]?.seq).toBe(log.acknowledged + 1);
    expect(log.size).toBe(5000 - log.acknowledged);
  });
});

describe("EventSequence", () => {
  it("passes each seq once and drops what was already delivered", () => {
    const sequence = new EventSequence();
    expect([1, 2, 3].map((seq) => sequence.accept(seq))).toEqual([true, true, true]);
    expect([2, 3, 4].map((seq) => sequence.accept(seq))).toEqual([false, false, true]);
    expect(sequence.delivered).toBe(4);
    expect(sequence.duplicates).toBe(2);
  });

  it("counts seqs the server skipped and always passes unsequenced events", () => {
    const sequence = new EventSequence();
    sequence.accept(1);
    expect(sequence.accept(5)).toBe(true);
    expect(sequence.skipped).toBe(3);
    expect(sequence.accept(undefined)).toBe(true);
    sequence.reset();
    expect(sequence.accept(1)).toBe(true);
  });
});

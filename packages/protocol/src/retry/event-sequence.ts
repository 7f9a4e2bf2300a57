/**
 * The client side of sequenced events: passes each seq once, in order, and remembers the
 * highest one delivered (what the client acknowledges). A connection delivers events in seq
 * order and a reconnect resends from the oldest unacknowledged one, so anything at or below
 * the mark is a duplicate; a jump past the next seq means the server dropped events for lack
 * of room, and is counted.
 */
export class EventSequence {
  #delivered = 0;
  #duplicates = 0;
  #skipped = 0;

  /** Highest seq delivered: what the client acknowledges. */
  get delivered(): number {
    return this.#delivered;
  }

  /** Events dropped as duplicates. */
  get duplicates(): number {
    return this.#duplicates;
  }

  /** Seqs the server never delivered (it dropped them unacknowledged). */
  get skipped(): number {
    return this.#skipped;
  }

  /** True when the event with `seq` is new and must be delivered; unsequenced events always are. */
  accept(seq: number | undefined): boolean {
    if (seq === undefined) return true;
    if (seq <= this.#delivered) {
      this.#duplicates++;
      return false;
    }
    this.#skipped += seq - this.#delivered - 1;
    this.#delivered = seq;
    return true;
  }

  /** Starts over (a fresh registration numbers events from 1 again). */
  reset(): void {
    this.#delivered = 0;
  }
}

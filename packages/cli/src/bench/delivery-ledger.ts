/**
 * Who received which message, to count lost and duplicated deliveries per (message, member). Each
 * generator thread keeps a ledger for its own members; the threads' per-message counts are then added
 * up and compared with what every message should have reached.
 */
export class DeliveryLedger {
  /** Distinct members of this ledger that received each message. */
  readonly receivedBy: Uint16Array;
  duplicates = 0;
  delivered = 0;
  /** Deliveries of an index outside the step (a late message of an earlier step, or garbage). */
  stray = 0;
  readonly #seen: Uint8Array[];

  constructor(
    readonly total: number,
    members: number,
  ) {
    this.receivedBy = new Uint16Array(total);
    const bytes = Math.ceil(total / 8);
    this.#seen = Array.from({ length: members }, () => new Uint8Array(bytes));
  }

  /** Notes that local member `member` received message `index`; false when it is not a first delivery. */
  record(member: number, index: number): boolean {
    const seen = this.#seen[member];
    if (!seen || !Number.isInteger(index) || index < 0 || index >= this.total) {
      this.stray += 1;
      return false;
    }
    const byte = index >> 3;
    const bit = 1 << (index & 7);
    if (((seen[byte] ?? 0) & bit) !== 0) {
      this.duplicates += 1;
      return false;
    }
    seen[byte] = (seen[byte] ?? 0) | bit;
    this.receivedBy[index] = (this.receivedBy[index] ?? 0) + 1;
    this.delivered += 1;
    return true;
  }
}

export interface LossCount {
  /** Deliveries that should have happened: every message times the members of its room. */
  expected: number;
  /** Distinct (message, member) deliveries that happened. */
  delivered: number;
  lost: number;
}

/**
 * Adds up the threads' per-message counts and compares them with `expectedOf(index)` (the members who
 * should have received that message). A message some member never received counts once per such member.
 */
export function countLoss(receivedBy: readonly ArrayLike<number>[], total: number, expectedOf: (index: number) => number): LossCount {
  let expected = 0;
  let delivered = 0;
  let lost = 0;
  for (let i = 0; i < total; i += 1) {
    let got = 0;
    for (const counts of receivedBy) got += counts[i] ?? 0;
    const want = expectedOf(i);
    expected += want;
    delivered += got;
    if (got < want) lost += want - got;
  }
  return { expected, delivered, lost };
}

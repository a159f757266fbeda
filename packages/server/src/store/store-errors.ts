/** A unique constraint refused a write: the thing already exists. Services translate it. */
export class StoreConflict extends Error {
  override readonly name = 'StoreConflict';
  constructor(
    readonly constraint: string,
    options?: { cause?: unknown },
  ) {
    super(`Unique constraint violated: ${constraint}`, options);
  }
}

export function isStoreConflict(err: unknown): err is StoreConflict {
  return err instanceof StoreConflict;
}

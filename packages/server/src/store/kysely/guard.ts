/** Runs a write, turning the driver's unique-violation error into a StoreConflict naming `constraint`. */
export type Guard = <T>(constraint: string, write: () => Promise<T>) => Promise<T>;

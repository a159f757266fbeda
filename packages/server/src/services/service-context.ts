import type { Limits } from '@parley/protocol';
import type { Bus } from '../bus/index.js';
import type { Store } from '../store/index.js';

/** What every service is handed by the composition root. */
export interface ServiceContext {
  readonly store: Store;
  readonly bus: Bus;
  readonly limits: Limits;
  /** Current time in epoch milliseconds; tests may pass a controllable clock. */
  readonly clock: () => number;
}

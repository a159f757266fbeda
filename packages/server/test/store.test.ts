import { describeGroupStore } from './contracts/group-store.contract.js';
import { describeStore } from './contracts/store.contract.js';
import { storeImpls } from './helpers/test-stores.js';

// One contract, every implementation (PARLEY_TEST_STORES narrows the run).
for (const impl of await storeImpls()) {
  describeStore(impl);
  describeGroupStore(impl);
}

import { describeSearchStore } from './contracts/search-store.contract.js';
import { storeImpls } from './helpers/test-stores.js';

// One search contract, every store: both rank, filter and find CJK and accented text alike.
for (const impl of await storeImpls()) describeSearchStore(impl);

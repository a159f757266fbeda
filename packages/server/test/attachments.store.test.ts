import { describeAttachmentStore } from './contracts/attachment-store.contract.js';
import { storeImpls } from './helpers/test-stores.js';

// The attachment store contract, every implementation (PARLEY_TEST_STORES narrows the run).
for (const impl of await storeImpls()) describeAttachmentStore(impl);

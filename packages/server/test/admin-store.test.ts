import { describeAdminStore } from './contracts/admin-store.contract.js';
import { storeImpls } from './helpers/test-stores.js';

// The admin listing and the audit log: one contract, every store.
for (const impl of await storeImpls()) describeAdminStore(impl);

// The SDK suites run against the same stores as the server's (PARLEY_TEST_STORES narrows them; PostgreSQL
// that does not answer is skipped loudly, or fails the run with CI=true).
export { storeImpls, type StoreImpl, type StoreName } from '../../../server/test/helpers/test-stores.js';

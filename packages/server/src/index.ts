/**
 * @packageDocumentation
 * The Parley server: `createServer(loadConfig(env, flags))` then `listen()`.
 */
export { createServer, type CreateServerOptions, type ParleyServer } from './create-server.js';
export { loadConfig, describeConfig, CONFIG_FIELDS, Secret, type ParleyConfig, type ConfigField } from './config/index.js';
export { openStore, type OpenStoreOptions, type Store } from './store/index.js';
export { VERSION } from './version.js';

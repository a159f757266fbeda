/**
 * config/: the one typed, frozen configuration object, built from environment variables and CLI flags
 * (`PARLEY_*`), validated at start (one error listing every bad setting), printed with secrets masked.
 * The only place that reads the environment. Also owns the data directory's generated secrets.
 */
export { loadConfig, describeConfig, CONFIG_FIELDS, type ParleyConfig, type ConfigField } from './load-config.js';
export { Secret } from './secret.js';
export { resolveSecrets, type ResolvedSecrets } from './data-dir-secrets.js';

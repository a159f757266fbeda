/**
 * domain/: pure rules of Parley — ids, the internal records, permissions, limits, HTML sanitising.
 * No I/O and no framework; imports only @parley/protocol and itself. Unit-tested exhaustively.
 */
export * from './ids.js';
export * from './model.js';
export * from './permissions.js';
export * from './group-permissions.js';
export * from './webhook-retry.js';
export * from './event-visibility.js';
export * from './mentions.js';
export * from './limits.js';
export * from './errors.js';
export * from './search-text.js';
export * from './audit-record.js';

/**
 * domain/: pure rules of Parley — ids, the internal records, permissions, limits, HTML sanitising.
 * No I/O and no framework; imports only @parley/protocol and itself. Unit-tested exhaustively.
 */
export * from './ids.js';
export * from './model.js';
export * from './permissions.js';
export * from './limits.js';
export * from './errors.js';

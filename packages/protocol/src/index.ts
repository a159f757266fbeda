/**
 * @packageDocumentation
 * The Parley wire contract: resource, request, event and error schemas (TypeBox, i.e. JSON Schema)
 * with their static types. The server validates with these schemas and generates its OpenAPI
 * document from them; the SDK takes its types from them. Imports nothing of Parley's.
 */
export * from './errors.js';
export * from './common.js';
export * from './limits.js';
export * from './users.js';
export * from './members.js';
export * from './groups.js';
export * from './webhooks.js';
export * from './messages.js';
export * from './attachments.js';
export * from './conversations.js';
export * from './events.js';
export * from './receipts.js';
export * from './realtime.js';
export * from './search.js';
export * from './admin.js';

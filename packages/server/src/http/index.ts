/**
 * http/: the REST door. Fastify routes that validate input with the protocol schemas, call one service
 * method, and shape the reply; authentication; the single mapping from error codes to HTTP statuses;
 * the OpenAPI document and /docs. Holds no business rules. Only http/ and realtime/ import Fastify.
 */
export { createHttpApp, type HttpAppOptions } from './create-http-app.js';
export { HTTP_STATUS } from './error-handler.js';

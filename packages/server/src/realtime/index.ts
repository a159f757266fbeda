/**
 * realtime/: the WebSocket door. Authenticates upgrades, keeps one in-order feed per conversation
 * (restoring order and filling gaps from the store), fans each event out to the connections of its
 * members (serialised once per event, filtered per recipient), replays from the event log on resume,
 * and cuts off slow consumers. Calls services for everything clients send; imports Fastify's server
 * only to attach to it. See docs/realtime.md for the protocol.
 */
export { RealtimeGateway, type RealtimeGatewayOptions } from './realtime-gateway.js';

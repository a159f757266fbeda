/**
 * bus/: carries committed events (and ephemeral typing, and session revocations) to whoever listens in
 * this process and, with Redis, in every other process. The in-process bus is the default. Services
 * publish only after their transaction commits, so a delivered event is always durable. May import
 * domain/ only.
 */
export type { Bus, BusHandler, BusMessage } from './bus.js';
export { MemoryBus } from './memory-bus.js';
export { RedisBus, type RedisBusOptions } from './redis-bus.js';

import { randomBytes } from 'node:crypto';
import { MemoryBus, RedisBus, type Bus } from '../src/bus/index.js';
import { describeBus, type BusImpl } from './contracts/bus.contract.js';
import { REDIS_URL, redisAvailable } from './helpers/test-redis.js';

const memory: BusImpl = {
  name: 'memory',
  // One process: several buses in it are one bus.
  open: async (count) => {
    const bus = new MemoryBus();
    return Array.from({ length: count }, () => bus);
  },
};

const redis: BusImpl = {
  name: 'redis',
  open: async (count) => {
    const channel = `parley:test:${randomBytes(6).toString('hex')}`;
    const buses: Bus[] = Array.from({ length: count }, () => new RedisBus({ url: REDIS_URL, channel }));
    await Promise.all(buses.map((b) => b.ready()));
    return buses;
  },
};

// One contract, every bus; Redis when it answers (a loud skip otherwise, a failure with CI=true).
const impls = [memory, ...((await redisAvailable()) ? [redis] : [])];
for (const impl of impls) describeBus(impl);

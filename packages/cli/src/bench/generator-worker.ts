import { parentPort } from 'node:worker_threads';
import type { ShardCommand } from './generator-protocol.js';
import { GeneratorShard } from './generator-shard.js';

// The entry of one generator worker thread: a GeneratorShard wired to the coordinator's port.
if (!parentPort) throw new Error('generator-worker runs as a worker thread');
const port = parentPort;
const shard = new GeneratorShard((reply, transfer) => port.postMessage(reply, transfer ?? []));
port.on('message', (command: ShardCommand) => shard.handle(command));

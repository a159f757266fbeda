import { parentPort, workerData } from 'node:worker_threads';
import { timeHistoryPages, type FilledHistory } from './history-bench.js';

// The entry of the thread that times history pages: a fresh heap, apart from the one that just wrote a
// million messages, so that its garbage collections are not timed as the server's latency.
if (!parentPort) throw new Error('history-worker runs as a worker thread');
const port = parentPort;
const { url, history, samples } = workerData as { url: string; history: FilledHistory; samples: number };
const timings = await timeHistoryPages(url, history, samples);
port.postMessage(timings.map((t) => ({ page: t.page, histogram: t.histogram.snapshot(), shortPages: t.shortPages })));

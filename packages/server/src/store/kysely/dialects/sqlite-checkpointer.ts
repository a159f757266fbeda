import type * as Fs from 'node:fs';
import type * as Os from 'node:os';
import { createRequire } from 'node:module';
import type * as WorkerThreads from 'node:worker_threads';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';

export interface CheckpointerOptions {
  /** The database file (its WAL is `<path>-wal`, its wal-index `<path>-shm`). */
  path: string;
  /** Checkpoint once this many frames wait in the WAL (SQLite's own automatic checkpoint: 1,000). */
  frames: number;
  /** Past this many bytes of WAL, make the next writer start it over (see RESTART below). */
  maxWalBytes: number;
  /** How often the wal-index is looked at. */
  intervalMs: number;
  /** Told when the checkpointer fails; the database then checkpoints by itself again. */
  onError: (err: Error) => void;
}

/** What the checkpointer has done so far (tests and diagnostics). */
export interface CheckpointStats {
  passive: number;
  restarts: number;
}

export interface Checkpointer {
  stats(): Promise<CheckpointStats>;
  /** Stops checkpointing and closes the checkpointer's connection. */
  stop(): Promise<void>;
}

interface WorkerInput {
  driver: string;
  path: string;
  frames: number;
  maxWalBytes: number;
  intervalMs: number;
}

type WorkerReply = { kind: 'stats'; stats: CheckpointStats } | { kind: 'error'; message: string };
type WorkerCommand = 'stats' | 'stop';

/**
 * The checkpointer's thread, run from its source text (an `eval` worker, so that it works the same from
 * the compiled server and from the TypeScript sources tests run): it imports nothing of ours and gets
 * what it needs in `workerData`.
 *
 * It reads the wal-index header to know how much of the WAL waits: the header is SQLite's documented file
 * format (walformat.html §2.2: mxFrame, the last valid frame, is a native-order u32 at byte 16, and
 * nBackfill, the frames already copied into the database, at byte 96 of the checkpoint information that
 * follows the header's two copies). A read there can race a writer; it is only a hint of when to act,
 * and the checkpoint itself takes SQLite's locks.
 */
function checkpointerThread(): void {
  /* eslint-disable @typescript-eslint/no-require-imports -- an eval worker is CommonJS: require is its only import */
  const { parentPort, workerData } = require('node:worker_threads') as typeof WorkerThreads;
  const { openSync, readSync, closeSync } = require('node:fs') as typeof Fs;
  const { endianness } = require('node:os') as typeof Os;
  const Database = require((workerData as WorkerInput).driver) as typeof BetterSqlite3;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const input = workerData as WorkerInput;
  const port = parentPort!;
  const db = new Database(input.path, { fileMustExist: true });
  // RESTART waits for the writer of the moment to finish (a group-committed batch: milliseconds), then
  // for readers, while it holds writers off: a reader that takes longer makes it give up, not wait.
  db.pragma('busy_timeout = 200');
  const pageBytes = db.pragma('page_size', { simple: true }) as number;
  const header = Buffer.alloc(104);
  const littleEndian = endianness() === 'LE';
  const stats: CheckpointStats = { passive: 0, restarts: 0 };
  let shm: number | undefined;
  let timer: NodeJS.Timeout | undefined;

  // A wal-index that cannot be read (no -shm file: another locking mode) is the checkpointer's failure,
  // reported like any other, so that the connection checkpoints by itself again; a short one is not yet
  // set up, with nothing to copy.
  const walIndex = (): { mxFrame: number; nBackfill: number } | undefined => {
    shm ??= openSync(`${input.path}-shm`, 'r');
    if (readSync(shm, header, 0, header.length, 0) < header.length) return undefined;
    return littleEndian
      ? { mxFrame: header.readUInt32LE(16), nBackfill: header.readUInt32LE(96) }
      : { mxFrame: header.readUInt32BE(16), nBackfill: header.readUInt32BE(96) };
  };
  const tick = (): void => {
    try {
      let wal = walIndex();
      if (wal && wal.mxFrame - wal.nBackfill >= input.frames) {
        db.pragma('wal_checkpoint(PASSIVE)');
        stats.passive += 1;
        wal = walIndex();
      }
      // Under steady writes every checkpoint ends with a few new frames past it, so the WAL is never all
      // copied and no writer starts it over: it would grow without end. Past the bound, RESTART copies
      // the rest and holds writers off until the next one can start the WAL from its beginning (after the
      // PASSIVE pass, that rest is small, and so is the wait). Once all is copied, it is that writer's
      // turn: checkpointing again before it came would only hold it off again.
      if (wal && wal.mxFrame * pageBytes > input.maxWalBytes && wal.nBackfill < wal.mxFrame) {
        const [result] = db.pragma('wal_checkpoint(RESTART)') as { busy: number }[];
        if (result && result.busy === 0) stats.restarts += 1;
      }
    } catch (err) {
      port.postMessage({ kind: 'error', message: err instanceof Error ? err.message : String(err) } satisfies WorkerReply);
      return;
    }
    timer = setTimeout(tick, input.intervalMs);
  };
  port.on('message', (command: WorkerCommand) => {
    if (command === 'stats') {
      port.postMessage({ kind: 'stats', stats: { ...stats } } satisfies WorkerReply);
      return;
    }
    clearTimeout(timer);
    if (shm !== undefined) closeSync(shm);
    db.close();
    port.close();
  });
  tick();
}

/**
 * Checkpoints a WAL-mode SQLite database from a thread of its own. SQLite's automatic checkpoint runs in
 * the commit that crosses its threshold: that commit copies about a thousand pages into the database
 * file and waits for two fsyncs, with the event loop stopped. Under load that was about a fifth of a
 * message send's wall time (docs/benchmarks.md). Here the copy and the waits happen beside the event
 * loop; the database's connection must have its automatic checkpoint turned off.
 */
export function startCheckpointer(options: CheckpointerOptions): Checkpointer {
  const input: WorkerInput = {
    driver: createRequire(import.meta.url).resolve('better-sqlite3'),
    path: options.path,
    frames: options.frames,
    maxWalBytes: options.maxWalBytes,
    intervalMs: options.intervalMs,
  };
  const worker = new Worker(`(${checkpointerThread.toString()})()`, { eval: true, workerData: input });
  // The checkpointer never keeps the process alive: a server that forgets to close its store still exits.
  worker.unref();
  const waiting: { resolve: (stats: CheckpointStats) => void; reject: (err: Error) => void }[] = [];
  let failure: Error | undefined;
  const fail = (err: Error): void => {
    if (failure) return;
    failure = err;
    for (const w of waiting.splice(0)) w.reject(err);
    options.onError(err);
  };
  worker.on('message', (reply: WorkerReply) => {
    if (reply.kind === 'stats') waiting.shift()?.resolve(reply.stats);
    else fail(new Error(`SQLite checkpointer: ${reply.message}`));
  });
  worker.on('error', fail);
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    stats: () =>
      new Promise((resolve, reject) => {
        if (failure) return reject(failure);
        waiting.push({ resolve, reject });
        worker.postMessage('stats' satisfies WorkerCommand);
      }),
    stop: async () => {
      // Held while it stops: an unreferenced worker is no reason to live, so a process with nothing else
      // to do would exit here, in the middle of the store's close, and never run what follows it.
      worker.ref();
      worker.postMessage('stop' satisfies WorkerCommand);
      await exited;
    },
  };
}

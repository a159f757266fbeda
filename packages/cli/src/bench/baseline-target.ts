import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBaselineServer } from './baseline-server.js';
import { onExit } from './exit-cleanup.js';
import type { BenchMember } from './generator-protocol.js';
import type { BenchTarget, RoomLayout } from './parley-target.js';
import { windowProfileEnv } from './loop-probe-protocol.js';
import { spawnServer } from './server-process.js';

const BASELINE_MAIN = new URL('./baseline-main.js', import.meta.url);

export interface StartBaselineOptions {
  inProcess: boolean;
  cpus: string | undefined;
  /** Write a CPU profile of each measured window into this directory (as for Parley). */
  cpuProfDir?: string;
}

/** Starts the baseline fan-out server on a temporary SQLite file, pinned like Parley. */
export async function startBaseline(options: StartBaselineOptions): Promise<BenchTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-baseline-'));
  const dbPath = join(dir, 'baseline.db');
  const forgetDir = onExit(() => rmSync(dir, { recursive: true, force: true }));
  const removeDir = (): void => {
    rmSync(dir, { recursive: true, force: true });
    forgetDir();
  };
  try {
    if (options.inProcess) {
      const server = await startBaselineServer({ host: '127.0.0.1', port: 0, dbPath });
      return {
        name: 'baseline',
        urls: [server.url],
        pids: [],
        loops: [],
        notes: ['baseline: bare ws + SQLite insert per message, inside the bench process (no server figures)'],
        close: async () => {
          await server.close();
          removeDir();
        },
      };
    }
    const child = await spawnServer({
      args: [BASELINE_MAIN.pathname, '--db', dbPath],
      env: { ...process.env, ...windowProfileEnv(options.cpuProfDir) },
      cpus: options.cpus,
      ready: /listening (\S+)/,
      label: 'the baseline server',
    });
    return {
      name: 'baseline',
      urls: [child.url],
      pids: [child.pid],
      loops: [child.loop],
      notes: [`baseline: bare ws + SQLite insert per message (WAL, synchronous=NORMAL), ${options.cpus !== undefined ? `pinned to CPU ${options.cpus}` : 'not pinned'}`],
      close: async () => {
        await child.stop();
        removeDir();
      },
    };
  } catch (err) {
    removeDir();
    throw err;
  }
}

/** The baseline has no accounts: a member is a connection that names its room. */
export function baselineMembers(target: BenchTarget, layout: RoomLayout): BenchMember[] {
  const url = target.urls[0] as string;
  return Array.from({ length: layout.rooms * layout.membersPerRoom }, (_, k) => {
    const room = k % layout.rooms;
    return { index: k, room, conversationId: `r${room}`, url: `${url}/?room=r${room}&member=m${k}` };
  });
}

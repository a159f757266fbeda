import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { onExit } from './exit-cleanup.js';
import type { LoopProbeReply, LoopProbeRequest, LoopStats } from './loop-probe-protocol.js';

const TASKSET = '/usr/bin/taskset';
const PROBE = new URL('./event-loop-probe.js', import.meta.url);
const PROBE_TIMEOUT_MS = 2_000;
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

/** Whether `taskset` (util-linux) is there to pin processes to cores. */
export function canPin(): boolean {
  return process.platform === 'linux' && existsSync(TASKSET);
}

/** A server the bench started as a child process. */
export interface ServerProcess {
  readonly pid: number;
  /** What the ready line captured (the URL). */
  readonly url: string;
  /** The server's event loop, read through the probe the bench loaded into it. */
  readonly loop: LoopProbe;
  stop(): Promise<void>;
}

/** Starts a window (reset) and reads the event loop's figures over it (undefined if the server does not answer). */
export interface LoopProbe {
  reset(): void;
  read(): Promise<LoopStats | undefined>;
}

export interface SpawnServerOptions {
  /** Arguments to `node`: the script and its flags. */
  args: string[];
  env: NodeJS.ProcessEnv;
  /** A CPU list for `taskset -c` (e.g. "0"), or undefined not to pin. */
  cpus: string | undefined;
  /** Matches the line the server prints once it listens; group 1 is its URL. */
  ready: RegExp;
  label: string;
}

/**
 * Starts a server process (pinned with `taskset -c <cpus>` when asked: taskset execs node, so the pid is
 * the server's own) and resolves once it printed its ready line.
 */
export function spawnServer(options: SpawnServerOptions): Promise<ServerProcess> {
  const nodeArgs = ['--import', PROBE.href, ...options.args];
  const [command, args] = options.cpus !== undefined ? [TASKSET, ['-c', options.cpus, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  // The IPC channel (taskset passes it on, as it does the other descriptors) carries the probe's figures.
  const child = spawn(command, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${options.label} did not start within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}\n${output.slice(-2000)}`.trim()));
    };
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = options.ready.exec(output);
      if (!match?.[1] || child.pid === undefined) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      // Keep reading so a chatty server never blocks on a full pipe.
      child.stdout?.resume();
      const forget = onExit(() => child.kill('SIGKILL'));
      resolve({
        pid: child.pid,
        url: match[1],
        loop: loopProbe(child),
        stop: async () => {
          await stopChild(child);
          forget();
        },
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
    child.once('error', (err) => fail(new Error(`cannot start ${options.label}: ${err.message}`)));
    child.once('exit', (code, signal) => fail(new Error(`${options.label} exited before it was ready (${signal ?? `code ${code}`})`)));
  });
}

function loopProbe(child: ChildProcess): LoopProbe {
  let nextId = 0;
  const send = (message: LoopProbeRequest): boolean => child.connected && child.send(message);
  return {
    reset: () => void send({ type: 'loop-probe:reset' }),
    read: () =>
      new Promise((resolve) => {
        const id = (nextId += 1);
        const done = (stats: LoopStats | undefined): void => {
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(stats);
        };
        const onMessage = (message: LoopProbeReply): void => {
          if (message?.type !== 'loop-probe:stats' || message.id !== id) return;
          const { delayP99Ms, delayMaxMs, utilization } = message;
          done({ delayP99Ms, delayMaxMs, utilization });
        };
        const timer = setTimeout(() => done(undefined), PROBE_TIMEOUT_MS);
        child.on('message', onMessage);
        if (!send({ type: 'loop-probe:read', id })) done(undefined);
      }),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Pins this process, every thread it has now and (by inheritance) every thread it starts, to `cpus`. */
export function pinSelf(cpus: string): void {
  execFileSync(TASKSET, ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
}

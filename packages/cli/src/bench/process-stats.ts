import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** CPU time used so far and resident memory now, of one process. */
export interface ProcessSample {
  cpuSeconds: number;
  rssBytes: number;
}

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      // USER_HZ is 100 on every Linux architecture Node runs on.
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * Reads `/proc/<pid>/stat` (utime + stime, every thread) and `/proc/<pid>/status` (VmRSS). Undefined
 * when the process is gone or there is no /proc (not Linux): the figures are then reported as null.
 */
export function sampleProcess(pid: number): ProcessSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? Number.NaN);
    if (!Number.isFinite(ticks) || !Number.isFinite(rssKb)) return undefined;
    return { cpuSeconds: ticks / clockTicks(), rssBytes: rssKb * 1024 };
  } catch {
    return undefined;
  }
}

/** The sum over several processes (a multi-process server), or undefined if any could not be read. */
export function sampleProcesses(pids: readonly number[]): ProcessSample | undefined {
  let cpuSeconds = 0;
  let rssBytes = 0;
  for (const pid of pids) {
    const sample = sampleProcess(pid);
    if (!sample) return undefined;
    cpuSeconds += sample.cpuSeconds;
    rssBytes += sample.rssBytes;
  }
  return pids.length === 0 ? undefined : { cpuSeconds, rssBytes };
}

/** This process's CPU time so far, all threads (worker threads included), in seconds. */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import { WINDOW_PROFILE_DIR_ENV, type LoopProbeReply, type LoopProbeRequest } from './loop-probe-protocol.js';

// Loaded with `--import` into each server process the bench starts (Parley and the baseline alike), it
// answers the bench over the IPC channel: how late the event loop ran its callbacks, and how busy it
// was, since the measured window began. A stall shows in the step it spoils. Nothing else of the server
// changes: without an IPC channel (a server started by hand) this module does nothing.
//
// With BENCH_WINDOW_PROFILE_DIR set (`parley bench --cpu-prof-dir`), it also profiles the CPU over each
// measured window and writes the profile there when the window ends: start-up and setup stay out of it.

/** CPU profiles of the measured windows, one file per window. */
function windowProfiler(dir: string): { start(): void; stop(done: () => void): void } {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  let windows = 0;
  return {
    start: () => session.post('Profiler.start'),
    // The profile is on disk before the bench hears the window's figures (and may stop the server).
    stop: (done) =>
      session.post('Profiler.stop', (err, result) => {
        if (!err) {
          windows += 1;
          writeFileSync(join(dir, `window-${process.pid}-${windows}.cpuprofile`), JSON.stringify(result.profile));
        }
        done();
      }),
  };
}

if (process.send !== undefined && process.channel !== undefined) {
  // 10 ms sampling: fine enough for stalls of the size that move a p99 over 100 ms, cheap to run.
  const RESOLUTION_MS = 10;
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  let since: EventLoopUtilization = performance.eventLoopUtilization();
  const reply = (message: LoopProbeReply): void => void process.send?.(message);
  const profileDir = process.env[WINDOW_PROFILE_DIR_ENV];
  const profiler = profileDir !== undefined && profileDir !== '' ? windowProfiler(profileDir) : undefined;
  process.on('message', (message: LoopProbeRequest) => {
    // The probe's timer runs only inside a window: outside it a server is left as it would be without the
    // probe (a timer every 10 ms keeps V8 from seeing an idle process, and its heap then grows differently).
    if (message?.type === 'loop-probe:reset') {
      delay.reset();
      delay.enable();
      since = performance.eventLoopUtilization();
      profiler?.start();
    } else if (message?.type === 'loop-probe:read') {
      delay.disable();
      // The histogram holds the intervals between the probe's timer callbacks: lateness is what exceeds 10 ms.
      const ms = (ns: number): number => (Number.isFinite(ns) ? Math.max(0, ns / 1e6 - RESOLUTION_MS) : 0);
      const stats: LoopProbeReply = {
        type: 'loop-probe:stats',
        id: message.id,
        delayP99Ms: ms(delay.percentile(99)),
        delayMaxMs: ms(delay.max),
        utilization: performance.eventLoopUtilization(since).utilization,
      };
      if (profiler) profiler.stop(() => reply(stats));
      else reply(stats);
    }
  });
  // The channel must not keep a server alive that was told to stop.
  process.channel.unref();
}

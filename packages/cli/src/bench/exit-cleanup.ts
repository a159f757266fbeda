/**
 * Last-resort cleanup when the bench process ends before it could stop what it started (Ctrl-C, kill):
 * synchronous steps (kill a child server, remove a temporary directory) run on `exit`. The normal path
 * closes everything itself and unregisters these.
 */
const steps = new Set<() => void>();
let installed = false;

export function onExit(step: () => void): () => void {
  if (!installed) {
    installed = true;
    process.once('exit', () => {
      for (const s of steps) {
        try {
          s();
        } catch {
          // Best effort: the process is ending anyway.
        }
      }
    });
  }
  steps.add(step);
  return () => steps.delete(step);
}

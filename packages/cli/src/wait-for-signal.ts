/**
 * Resolves with the name of the first SIGINT or SIGTERM. Both handlers are removed at once, so a
 * second Ctrl-C falls through to Node's default and ends a shutdown that hangs.
 */
export function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const signals = ['SIGINT', 'SIGTERM'] as const;
    const onSignal = (signal: string): void => {
      for (const s of signals) process.off(s, onSignal);
      resolve(signal);
    };
    for (const s of signals) process.on(s, onSignal);
  });
}

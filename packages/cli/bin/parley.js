#!/usr/bin/env node
// The `parley` command. The CLI is TypeScript, compiled to dist/ by `npm run build` (which `npm install`
// runs through the root `prepare` script); this launcher stays plain JavaScript so it needs no build.
try {
  await import('../dist/main.js');
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && /[\\/]dist[\\/]/.test(String(err.message))) {
    console.error(`parley is not built yet (${err.message}).\nRun \`npm run build\` in the repository root.`);
    process.exit(1);
  }
  throw err;
}

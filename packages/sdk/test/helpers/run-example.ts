import { transform } from 'esbuild';

/**
 * Runs a documentation example as written, with `scope`'s names in scope. esbuild first lowers syntax
 * this Node may lack (such as `await using`), as an application's build would.
 */
export async function runExample(code: string, scope: Record<string, unknown>): Promise<void> {
  // The inner block lets an example declare a name the scope also has (`await using client = …`).
  const wrapped = `export default async function example({ ${Object.keys(scope).join(', ')} }) {\n{\n${code}\n}\n}`;
  const lowered = (await transform(wrapped, { loader: 'ts', format: 'cjs', target: 'node20' })).code;
  const module = { exports: {} as { default?: (scope: Record<string, unknown>) => Promise<void> } };
  new Function('module', 'exports', lowered)(module, module.exports);
  await module.exports.default!(scope);
}

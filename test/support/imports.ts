// What a module imports, transitively, read from the TypeScript sources: the layering tests
// check which modules a layer may reach.
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file compiles to dist/test/support/). */
export const repo = fileURLToPath(new URL('../../../', import.meta.url));

/** Every module `file` imports, transitively: relative ones as repository paths, others as written. */
export function importClosure(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  if (!file.endsWith('.ts')) return seen;
  const source = readFileSync(join(repo, file), 'utf8');
  for (const m of source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'|import\('([^']+)'\)/gm)) {
    const spec = m[1] ?? m[2] ?? m[3]!;
    const target = spec.startsWith('.') ? relative(repo, resolve(repo, dirname(file), spec)).replace(/\.js$/, '.ts') : spec;
    importClosure(target, seen);
  }
  return seen;
}

// The team's shared ground truth (../shared beside the repository, in CI too): the kernel
// recordings and sysfs listings that tests check against. Missing files fail loudly.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Reads `../shared/<path>` relative to the repository root. */
export function readShared(path: string): string {
  // this file compiles to dist/test/support/, four levels below the folder that holds shared/
  const file = fileURLToPath(new URL(`../../../../shared/${path}`, import.meta.url));
  if (!existsSync(file)) throw new Error(`shared ground truth ${file} is missing: clone the repository beside shared/`);
  return readFileSync(file, 'utf8');
}

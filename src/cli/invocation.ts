// How a user runs this very `iio` from any directory, for the commands a guide prints: `iio`
// when that name on PATH is this binary (npm link, npm install -g), else node and the binary's
// absolute path. (`npx iio` works only inside the checkout: elsewhere npx asks the registry for
// a package named iio.)
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('./iio.js', import.meta.url));

/** The package's folder (BIN is dist/src/cli/iio.js in it), where `npm link` puts this `iio` on PATH. */
export const PACKAGE_ROOT = resolve(dirname(BIN), '../../..');

/** The command line that runs this `iio`, for a shell searching this process's PATH. */
export function iioCommand(): string {
  const onPath = (process.env['PATH'] ?? '').split(delimiter).filter((dir) => dir !== '').map((dir) => join(dir, 'iio')).find(runnable);
  return onPath !== undefined && realpathSync(onPath) === realpathSync(BIN) ? 'iio' : `node ${shellWord(BIN)}`;
}

/** What the shell would run for this name: an executable regular file (symlinks followed). */
function runnable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** `word` as one shell word: as is when it is plain, else single-quoted. */
function shellWord(word: string): string {
  return /^[\w./:@%+=-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

// Option parsing shared by the subcommands: node:util parseArgs, plus the two things it lacks —
// an operand that looks like a negative number stays an operand (`iio attr -c dummy0 accel_x
// calibbias -7`), and an option value may start with a dash (`-T -1`) — and the usage errors
// (exit status 2), the common context options and number parsing.
import { CONTEXT_URIS } from '../backends/open.js';
import { MAX_TIMEOUT_MS } from '../backends/waits.js';
import type { UriForm } from '../kernel/open.js';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Context } from '../core/context.js';
import type { CliEnv } from './env.js';
import { explainOpenError } from './explain.js';

/** A command line the command cannot run: the dispatcher prints it with a pointer to --help. */
export class UsageError extends Error {
  readonly code = 'ERR_IIOJS_USAGE';
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends OptionsConfig> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

/** -u and -T, which every command that opens a context takes. */
export const CONTEXT_OPTIONS = {
  uri: { type: 'string', short: 'u', default: 'local:' },
  timeout: { type: 'string', short: 'T' },
} as const satisfies OptionsConfig;

/** One line per URI form, with what it opens; the first is the default. */
export function uriLines(forms: readonly UriForm[]): string[] {
  return forms.map((f, i) => `${f.form.padEnd(21)}${f.opens}${i === 0 ? ' (the default)' : ''}`);
}

/** The help of -u taking `forms`. */
export function uriHelp(forms: readonly UriForm[]): string {
  return `  -u, --uri <uri>         ${uriLines(forms).join(`\n${' '.repeat(26)}`)}`;
}

export const CONTEXT_HELP = `${uriHelp(CONTEXT_URIS)}
  -T, --timeout <ms>      limit of every blocking operation (0: none, the default)`;

const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

/** Parses `args` against `options`; operands are `positionals`. Throws UsageError. */
export function parseCommand<O extends OptionsConfig>(args: readonly string[], options: O): Parsed<O> {
  const config = { args: normalize(args, options), options, allowPositionals: true as const, strict: true as const };
  try {
    return parseArgs(config);
  } catch (e) {
    const error = e as Error & { code?: string };
    if (!error.code?.startsWith('ERR_PARSE_ARGS')) throw e;
    const unknown = /^Unknown option '([^']+)'/.exec(error.message);
    const message = unknown === null ? error.message.split('\n')[0]! : `unknown option '${unknown[1]}'`;
    throw new UsageError(message.charAt(0).toLowerCase() + message.slice(1));
  }
}

/** Options first (values joined to them), then `--` and the operands in their order. */
function normalize(args: readonly string[], options: OptionsConfig): string[] {
  const takesValue = new Set<string>();
  for (const [name, o] of Object.entries(options)) {
    if (o.type !== 'string') continue;
    takesValue.add(`--${name}`);
    if (o.short !== undefined) takesValue.add(o.short);
  }
  const opts: string[] = [];
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-' || NEGATIVE_NUMBER.test(a)) {
      operands.push(a);
      continue;
    }
    const next = i + 1 < args.length ? args[i + 1]! : undefined;
    if (a.startsWith('--')) {
      if (!a.includes('=') && takesValue.has(a) && next !== undefined) {
        opts.push(`${a}=${next}`);
        i++;
      } else opts.push(a);
      continue;
    }
    // A group of short options (-qw); a value-taking one ends it, with its value inline or next.
    const valueAt = [...a.slice(1)].findIndex((c) => takesValue.has(c)) + 1;
    if (valueAt === a.length - 1 && next !== undefined) {
      opts.push(a + next);
      i++;
    } else opts.push(a);
  }
  return [...opts, '--', ...operands];
}

/** A decimal integer in [min, max]. */
export function integerArg(text: string, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = /^[+-]?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!(Number.isSafeInteger(n) && n >= min && n <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
    throw new UsageError(`${what} must be ${range}, got ${JSON.stringify(text)}`);
  }
  return n;
}

/** An unsigned 32-bit number, decimal or 0x hexadecimal (register addresses and values). */
export function u32Arg(text: string, what: string): number {
  const t = text.trim();
  const n = /^0[xX][0-9a-fA-F]+$/.test(t) || /^\d+$/.test(t) ? Number(t) : NaN;
  if (!(Number.isSafeInteger(n) && n <= 0xffffffff)) {
    throw new UsageError(`${what} must be a 32-bit unsigned number (decimal or 0x hex), got ${JSON.stringify(text)}`);
  }
  return n;
}

/** Exactly `min`..`max` operands, else a UsageError naming what was expected. */
export function operands(positionals: readonly string[], min: number, max: number, expected: string): string[] {
  if (positionals.length < min) throw new UsageError(`missing ${expected}`);
  if (positionals.length > max) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[max])}`);
  return [...positionals];
}

/** Opens the context of -u, with -T applied (-T 0: no limit, whatever the context's default). */
export async function openFromArgs(values: { uri?: string; timeout?: string }, env: CliEnv): Promise<Context> {
  const timeout = timeoutArg(values);
  const ctx = await env.openContext(values.uri ?? 'local:').catch((e: unknown) => { throw explainOpenError(e); });
  if (timeout !== undefined) ctx.setTimeout(timeout);
  return ctx;
}

/** -T in ms (0: none), undefined when not given. */
function timeoutArg(values: { timeout?: string }): number | undefined {
  return values.timeout === undefined ? undefined : integerArg(values.timeout, '-T/--timeout (ms)', 0, MAX_TIMEOUT_MS);
}

/** -T as a wait bound for streams: undefined when there is none. */
export function timeoutMs(values: { timeout?: string }): number | undefined {
  const ms = timeoutArg(values);
  return ms === 0 ? undefined : ms;
}

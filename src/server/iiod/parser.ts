// The command grammar of the iiod text protocol as libiio 0.24 speaks it (iiod-protocol.md §4a):
// one line, tokens separated by blanks, keywords in exactly two spellings (`READ` or `read`),
// names matching `([alpha]+,|iio:)?[-_.alnum]+`. A line that does not parse is a ParseError,
// which the session answers with -22.

import { MAX_TIMEOUT_MS } from '../../backends/waits.js';

/** Which attributes of a device a READ or WRITE names. */
export type AttrTarget =
  | { kind: 'device' }
  | { kind: 'debug' }
  | { kind: 'buffer' }
  | { kind: 'channel'; output: boolean; channel: string };

export type Command =
  | { op: 'VERSION' } | { op: 'PRINT' } | { op: 'ZPRINT' } | { op: 'HELP' } | { op: 'EXIT' } | { op: 'BINARY' }
  | { op: 'TIMEOUT'; ms: number }
  | { op: 'OPEN'; device: string; samples: number; mask: string; cyclic: boolean }
  | { op: 'CLOSE'; device: string }
  /** `attr` undefined: every attribute of the target ("read all"). */
  | { op: 'READ'; device: string; target: AttrTarget; attr: string | undefined }
  /** `attr` undefined: "write all"; `bytes` of payload follow the line. */
  | { op: 'WRITE'; device: string; target: AttrTarget; attr: string | undefined; bytes: number }
  | { op: 'READBUF'; device: string; bytes: number }
  | { op: 'WRITEBUF'; device: string; bytes: number }
  | { op: 'GETTRIG'; device: string }
  | { op: 'SETTRIG'; device: string; trigger: string | undefined }
  | { op: 'SET_BUFFERS_COUNT'; device: string; count: number };

export class ParseError extends Error {
  readonly code = 'EINVAL';
  constructor(line: string, reason: string) {
    super(`iiod: cannot parse ${JSON.stringify(line.length > 60 ? `${line.slice(0, 57)}...` : line)}: ${reason}`);
    this.name = 'ParseError';
  }
}

const WORD = /^(?:[A-Za-z]+,|iio:)?[-_.A-Za-z0-9]+$/;
/** Decimal numbers up to 2^53: larger ones are refused by size limits anyway. */
const NUMBER = /^[0-9]{1,15}$/;

/** The line's command, or null for an empty line (which gets no reply). */
export function parseLine(line: string): Command | null {
  if (line === '') return null;
  const tokens = line.split(/[ \t]+/);
  const parser = new Tokens(line, tokens);
  const op = parser.keyword(['VERSION', 'PRINT', 'ZPRINT', 'HELP', 'EXIT', 'QUIT', 'BINARY', 'TIMEOUT', 'OPEN', 'CLOSE',
    'READBUF', 'WRITEBUF', 'READ', 'WRITE', 'GETTRIG', 'SETTRIG', 'SET']);
  let command: Command;
  switch (op) {
    case 'VERSION':
    case 'PRINT':
    case 'ZPRINT':
    case 'HELP':
    case 'BINARY':
      command = { op } as Command;
      break;
    case 'EXIT':
    case 'QUIT':
      command = { op: 'EXIT' };
      break;
    case 'TIMEOUT': {
      const ms = parser.number();
      // Node timers count to 2^31 - 1 ms; a longer one would fire at once.
      if (ms > MAX_TIMEOUT_MS) throw new ParseError(line, `a timeout is 0 (none) to ${MAX_TIMEOUT_MS} ms`);
      command = { op, ms };
      break;
    }
    case 'OPEN': {
      const device = parser.word();
      const samples = parser.number();
      const mask = parser.word();
      const cyclic = parser.more() && parser.keyword(['CYCLIC']) === 'CYCLIC';
      command = { op, device, samples, mask, cyclic };
      break;
    }
    case 'CLOSE':
    case 'GETTRIG':
      command = { op, device: parser.word() };
      break;
    case 'READBUF':
    case 'WRITEBUF':
      command = { op, device: parser.word(), bytes: parser.number() } as Command;
      break;
    case 'SETTRIG':
      command = { op, device: parser.word(), trigger: parser.more() ? parser.word() : undefined };
      break;
    case 'SET': {
      const device = parser.word();
      parser.keyword(['BUFFERS_COUNT']);
      command = { op: 'SET_BUFFERS_COUNT', device, count: parser.number() };
      break;
    }
    case 'READ': {
      const device = parser.word();
      const target = parser.target();
      command = { op, device, target, attr: parser.more() ? parser.word() : undefined };
      break;
    }
    case 'WRITE': {
      const device = parser.word();
      const target = parser.target();
      // The size comes last: `WRITE dev attr 5` names an attribute, `WRITE dev 5` writes all.
      const attr = parser.remaining() > 1 ? parser.word() : undefined;
      command = { op, device, target, attr, bytes: parser.number() };
      break;
    }
    default:
      throw new ParseError(line, `unknown command ${op}`);
  }
  parser.end();
  return command;
}

class Tokens {
  #i = 0;
  constructor(readonly line: string, readonly tokens: readonly string[]) {}

  more(): boolean {
    return this.#i < this.tokens.length;
  }

  remaining(): number {
    return this.tokens.length - this.#i;
  }

  /** One of `keywords`, spelt all upper or all lower case. */
  keyword(keywords: readonly string[]): string {
    const token = this.#next('a keyword');
    const match = keywords.find((k) => token === k || token === k.toLowerCase());
    if (match === undefined) throw new ParseError(this.line, `expected ${keywords.join(' or ')}, got ${JSON.stringify(token)}`);
    return match;
  }

  word(): string {
    const token = this.#next('a name');
    if (!WORD.test(token)) throw new ParseError(this.line, `${JSON.stringify(token)} is not a valid name`);
    return token;
  }

  number(): number {
    const token = this.#next('a number');
    if (!NUMBER.test(token)) throw new ParseError(this.line, `${JSON.stringify(token)} is not a decimal number`);
    return Number(token);
  }

  /** After the device of READ/WRITE: DEBUG, BUFFER, INPUT|OUTPUT <channel>, or plain device attributes. */
  target(): AttrTarget {
    const token = this.tokens[this.#i];
    const is = (k: string): boolean => token === k || token === k.toLowerCase();
    if (is('DEBUG')) {
      this.#i++;
      return { kind: 'debug' };
    }
    if (is('BUFFER')) {
      this.#i++;
      return { kind: 'buffer' };
    }
    if (is('INPUT') || is('OUTPUT')) {
      this.#i++;
      return { kind: 'channel', output: is('OUTPUT'), channel: this.word() };
    }
    return { kind: 'device' };
  }

  end(): void {
    if (this.more()) throw new ParseError(this.line, `unexpected ${JSON.stringify(this.tokens[this.#i])}`);
  }

  #next(what: string): string {
    const token = this.tokens[this.#i++];
    if (token === undefined || token === '') throw new ParseError(this.line, `expected ${what}`);
    return token;
  }
}

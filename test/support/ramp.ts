// The default sim scenario's ramp (adc4's voltage2, docs/sim.md): -32000, -31984, ... in steps
// of 16 over 4000 values, then again; and one int16 channel out of interleaved scans, to find it in.
import assert from 'node:assert/strict';

const RAMP_START = -32000;
const RAMP_LAST = -32000 + 16 * 3999;

/** adc4's voltage2 ramp: every value on the grid, each the one before + 16 (wrapping). */
export function assertRamp(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    assert.ok(v >= RAMP_START && v <= RAMP_LAST && (v - RAMP_START) % 16 === 0, `${what}[${i}] = ${v} is not on the ramp`);
    if (i > 0) assert.equal(v, values[i - 1] === RAMP_LAST ? RAMP_START : values[i - 1]! + 16, `${what}[${i}] after ${values[i - 1]}`);
  }
}

/** One channel's int16 values out of interleaved scans of `channels` int16 channels. */
export function column(data: Buffer, channels: number, which: number): number[] {
  const out: number[] = [];
  for (let at = which * 2; at + 2 <= data.length; at += channels * 2) out.push(data.readInt16LE(at));
  return out;
}

// The time plot's measurements of one trace (Scopy's stats panel): min, max, mean, RMS and the
// frequency, from the rising crossings of the mid level with a hysteresis of a tenth of the
// swing, so noise around the level does not count as periods.

export interface Measurements {
  min: number;
  max: number;
  mean: number;
  rms: number;
  /** Hz; undefined when the window holds less than one period. */
  frequency: number | undefined;
}

export function measure(values: ArrayLike<number>, rate: number | undefined): Measurements {
  const n = values.length;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    squares += v * v;
  }
  const mean = n === 0 ? NaN : sum / n;
  const result: Measurements = { min, max, mean, rms: n === 0 ? NaN : Math.sqrt(squares / n), frequency: undefined };
  if (rate === undefined || !(max > min)) return result;
  const mid = (max + min) / 2;
  const band = (max - min) / 10;
  let armed = false;
  let first = -1;
  let last = -1;
  let crossings = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v < mid - band) armed = true;
    else if (armed && v >= mid) {
      armed = false;
      if (first < 0) first = i;
      last = i;
      crossings++;
    }
  }
  if (crossings >= 2) result.frequency = ((crossings - 1) * rate) / (last - first);
  return result;
}

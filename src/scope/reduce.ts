// A trace reduced to what a plot of `columns` pixels can show: each column's min and max, so
// spikes stay visible whatever the decimation. Windows that fit in 2 × columns go as they are.

/** min[0..columns) then max[0..columns) of `values` cut into `columns` equal spans. */
export function minMaxColumns(values: ArrayLike<number>, columns: number, out = new Float32Array(2 * columns)): Float32Array {
  const n = values.length;
  for (let c = 0; c < columns; c++) {
    const from = Math.floor((c * n) / columns);
    const to = Math.max(from + 1, Math.floor(((c + 1) * n) / columns));
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = from; i < to && i < n; i++) {
      const v = values[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    out[c] = lo;
    out[columns + c] = hi;
  }
  return out;
}

/** Each column's maximum (a spectrum keeps its peaks). */
export function maxColumns(values: ArrayLike<number>, columns: number): Float32Array {
  const out = new Float32Array(columns);
  const n = values.length;
  for (let c = 0; c < columns; c++) {
    const from = Math.floor((c * n) / columns);
    const to = Math.max(from + 1, Math.floor(((c + 1) * n) / columns));
    let hi = -Infinity;
    for (let i = from; i < to && i < n; i++) if (values[i]! > hi) hi = values[i]!;
    out[c] = hi;
  }
  return out;
}

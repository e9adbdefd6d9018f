// The scope's page: the context tree and attribute panel, the time / spectrum / XY views of the
// frames the server sends, the generator and the recorder. Frames are drawn on the next
// animation frame and acknowledged once drawn, so a tab that cannot keep up (or is hidden and
// throttled) makes the server drop frames instead of queueing them.
import { Connection, type Frame } from './connection.js';
import { AutoRange, COLORS, eng, Plot } from './plot.js';

type Tab = 'time' | 'spectrum' | 'xy' | 'generator' | 'record';
interface TreeChannel { id: string; name?: string; label?: string; output: boolean; type: string; scan: { index: number; format: string } | null }
interface TreeDevice { id: string; name?: string; label?: string; trigger: boolean; hasDebug: boolean; currentTrigger?: string | null; channels: TreeChannel[]; buffers: Array<{ index: number; direction: 'in' | 'out'; channels: string[] }> }
type Target = { kind: 'context' } | { kind: 'device' | 'debug'; device: string } | { kind: 'channel'; device: string; channel: string; output: boolean } | { kind: 'buffer'; device: string; buffer: number };

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const el = <K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] => {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
};
/** A channel's colour chip. */
const swatch = (i: number): HTMLSpanElement => {
  const chip = el('span', { className: 'swatch' });
  chip.style.background = COLORS[i % COLORS.length]!;
  return chip;
};
const WINDOWS = ['hann', 'rectangular', 'hamming', 'blackman', 'blackman-harris', 'flat-top', 'triangular', 'welch', 'cosine'];

const token = new URLSearchParams(location.search).get('token') ?? '';
const conn = new Connection(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws${token === '' ? '' : `?token=${encodeURIComponent(token)}`}`);

/** What tests and the benchmark read: frames drawn, the page's frame rate, sample-to-pixel latency. */
const stats = {
  framesDrawn: 0,
  fps: 0,
  latencyMs: NaN,
  latencies: [] as number[],
  lastHeader: undefined as Record<string, any> | undefined,
  status: undefined as Record<string, any> | undefined,
  recordings: [] as Array<Record<string, any>>,
};
(window as unknown as { scopeStats: typeof stats }).scopeStats = stats;
const drawTimes: number[] = [];

let devices: TreeDevice[] = [];
let tab: Tab = 'time';
let run: 'run' | 'single' | 'stop' = 'run';
let pending: Frame | undefined;
const cursors: { a?: number; b?: number } = {};
let lastTime: Frame | undefined;

const timePlot = new Plot($<HTMLCanvasElement>('time-plot'));
const spectrumPlot = new Plot($<HTMLCanvasElement>('spectrum-plot'));
const xyPlot = new Plot($<HTMLCanvasElement>('xy-plot'));
const timeRange = new AutoRange();
const xyRange = new AutoRange();

function deviceTitle(d: TreeDevice): string {
  return d.label === undefined ? d.name ?? d.id : `${d.label} (${d.name ?? d.id})`;
}

function channelTitle(c: TreeChannel): string {
  return c.label === undefined ? c.id : `${c.id}: ${c.label}`;
}

// ---- the tree and the attribute panel ----

function treeNode(text: string, kind: string, target: Target, children: HTMLElement[] = []): HTMLLIElement {
  const span = el('span', {}, text, ' ', el('span', { className: 'kind' }, kind));
  span.dataset.target = JSON.stringify(target);
  span.addEventListener('click', () => {
    document.querySelectorAll('.tree span.selected').forEach((s) => s.classList.remove('selected'));
    span.classList.add('selected');
    void showAttrs(target, `${text} ${kind}`);
  });
  return el('li', {}, span, ...(children.length === 0 ? [] : [el('ul', {}, ...children)]));
}

function buildTree(description: string): void {
  const items = devices.map((d) => {
    const children = d.channels.map((c) => treeNode(channelTitle(c), c.output ? 'out' : 'in', { kind: 'channel', device: d.id, channel: c.id, output: c.output }));
    children.push(...d.buffers.map((b) => treeNode(`buffer${b.index}`, b.direction, { kind: 'buffer', device: d.id, buffer: b.index })));
    if (d.hasDebug) children.push(treeNode('debug', 'attrs', { kind: 'debug', device: d.id }));
    return treeNode(deviceTitle(d), d.trigger ? `trigger ${d.id}` : d.id, { kind: 'device', device: d.id }, children);
  });
  $('tree').replaceChildren(treeNode('context', description, { kind: 'context' }), ...items);
}

function editor(a: Record<string, any>, write: (value: string) => void): HTMLElement {
  const value = String(a.value ?? '');
  if (!a.writable) return el('span', {}, value);
  let input: HTMLInputElement | HTMLSelectElement;
  if (a.available?.kind === 'list' && a.available.values.length > 0) {
    const values: string[] = a.available.values.includes(value) ? a.available.values : [value, ...a.available.values];
    input = el('select', {}, ...values.map((v) => el('option', { value: v, selected: v === value }, v)));
  } else if (a.available?.kind === 'range') {
    input = el('input', { type: 'number', min: String(a.available.min), max: String(a.available.max), step: String(a.available.step), value });
  } else if (value !== '' && Number.isFinite(Number(value))) {
    input = el('input', { type: 'number', step: 'any', value });
  } else {
    input = el('input', { type: 'text', value });
  }
  input.dataset.attr = a.name;
  input.addEventListener('change', () => write(input.value));
  return input;
}

async function showAttrs(target: Target, title: string): Promise<void> {
  $('attrs-title').textContent = `Attributes: ${title}`;
  const { attrs } = await conn.request('attrs', { target });
  const rows = (attrs as Array<Record<string, any>>).map((a) => {
    const note = el('div', { className: a.error ? 'error' : '' }, a.error ? `${a.error.code ?? ''} ${a.error.message}` : '');
    note.dataset.note = a.name;
    const cell = el('td');
    const write = async (value: string): Promise<void> => {
      try {
        const reply = await conn.request('attr.write', { target, name: a.name, value });
        note.className = 'ok';
        note.textContent = `read back: ${reply.attr.value}`;
        cell.replaceChildren(editor(reply.attr, write), note);
      } catch (e) {
        note.className = 'error';
        note.textContent = (e as Error).message;
      }
    };
    cell.append(editor(a, write), note);
    const row = el('tr', {}, el('td', {}, a.name), cell);
    row.dataset.attr = a.name;
    return row;
  });
  const device = target.kind === 'device' ? devices.find((d) => d.id === target.device) : undefined;
  if (device?.currentTrigger !== undefined) rows.unshift(triggerRow(device));
  $('attrs').replaceChildren(el('table', {}, ...rows));
}

/** The device's IIO trigger (IIO Oscilloscope's trigger dialog): none, or one of the context's. */
function triggerRow(device: TreeDevice): HTMLTableRowElement {
  const triggers = devices.filter((d) => d.trigger);
  const select = el('select', {}, el('option', { value: '', selected: device.currentTrigger === null }, '(none)'),
    ...triggers.map((t) => el('option', { value: t.id, selected: t.id === device.currentTrigger }, t.name ?? t.id)));
  select.dataset.attr = 'trigger';
  const note = el('div');
  note.dataset.note = 'trigger';
  select.addEventListener('change', async () => {
    try {
      await conn.request('trigger.set', { device: device.id, trigger: select.value === '' ? null : select.value });
      device.currentTrigger = select.value === '' ? null : select.value;
      note.className = 'ok';
      note.textContent = 'set';
    } catch (e) {
      note.className = 'error';
      note.textContent = (e as Error).message;
    }
  });
  const row = el('tr', {}, el('td', {}, 'trigger'), el('td', {}, select, note));
  row.dataset.attr = 'trigger';
  return row;
}

// ---- the source of the views: a device and its channels ----

const captureDevices = (): TreeDevice[] => devices.filter((d) => d.buffers.some((b) => b.direction === 'in' && b.channels.length > 0));
const outputDevices = (): TreeDevice[] => devices.filter((d) => d.buffers.some((b) => b.direction === 'out'));
const scanChannels = (d: TreeDevice | undefined, output: boolean): TreeChannel[] =>
  (d?.channels ?? []).filter((c) => c.scan !== null && c.output === output && c.type !== 'timestamp');
const currentDevice = (): TreeDevice | undefined => devices.find((d) => d.id === $<HTMLSelectElement>('device').value);
const chosenChannels = (): string[] => [...document.querySelectorAll<HTMLInputElement>('#channels input:checked')].map((i) => i.dataset.channel!);

function fillChannels(): void {
  const d = currentDevice();
  const list = scanChannels(d, false);
  $('channels').replaceChildren(...list.map((c, i) => {
    const box = el('input', { type: 'checkbox' });
    box.dataset.channel = c.id;
    box.addEventListener('change', () => void sendView());
    return el('label', {}, box, swatch(i), channelTitle(c));
  }));
  $('trigger-channel').replaceChildren(...list.map((c) => el('option', { value: c.id }, c.id)));
  timeRange.reset();
}

function viewConfig(): Record<string, unknown> | null {
  const d = currentDevice();
  if (d === undefined || (tab !== 'time' && tab !== 'spectrum' && tab !== 'xy')) return null;
  const plot = tab === 'time' ? timePlot : tab === 'spectrum' ? spectrumPlot : xyPlot;
  const triggerOn = $<HTMLInputElement>('trigger-on').checked;
  return {
    view: tab, device: d.id, channels: chosenChannels(),
    samples: Number($<HTMLInputElement>('samples').value), columns: plot.columns,
    units: $<HTMLSelectElement>('units').value, run, rolling: $<HTMLInputElement>('rolling').checked,
    trigger: triggerOn ? { channel: $<HTMLSelectElement>('trigger-channel').value, edge: $<HTMLSelectElement>('trigger-edge').value, level: Number($<HTMLInputElement>('trigger-level').value) } : null,
    fft: {
      size: Number($<HTMLSelectElement>('fft-size').value), window: $<HTMLSelectElement>('fft-window').value,
      average: Number($<HTMLInputElement>('fft-average').value), peakHold: $<HTMLInputElement>('fft-hold').checked,
      markers: Number($<HTMLInputElement>('fft-markers').value), complex: $<HTMLInputElement>('fft-complex').checked,
    },
  };
}

async function sendView(): Promise<void> {
  try {
    await conn.request('view', { view: viewConfig() });
    $('status').classList.remove('error');
  } catch (e) {
    $('status').textContent = (e as Error).message;
    $('status').classList.add('error');
  }
}

// ---- drawing ----

function drawTime(frame: Frame): void {
  const h = frame.header;
  const rate: number | null = h.rate;
  const unit = rate === null ? 1 : 1 / rate;
  const span = h.samples * unit;
  timePlot.x = { min: 0, max: span, label: rate === null ? 'samples' : 'time (s)' };
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of frame.arrays) for (const v of a) { if (v < lo) lo = v; if (v > hi) hi = v; }
  const r = timeRange.update(lo, hi);
  timePlot.y = { min: r.min, max: r.max, label: h.units === 'physical' ? 'physical units' : 'raw' };
  timePlot.clear();
  const x0 = (h.samples - h.count) * unit;
  frame.arrays.forEach((a, i) => {
    const color = COLORS[i % COLORS.length]!;
    if (h.reduced) timePlot.minMax(a, color, x0, span);
    else timePlot.line(a, color, x0, unit);
  });
  if (h.triggered) timePlot.vertical(h.samples * 0.1 * unit, '#888', 'T');
  if (cursors.a !== undefined) timePlot.vertical(cursors.a, '#fff', 'A');
  if (cursors.b !== undefined) timePlot.vertical(cursors.b, '#aaa', 'B');
  const axis = $('time-axis');
  axis.textContent = `window ${eng(span)}${rate === null ? 'samples' : 's'} (${h.samples} samples${rate === null ? '' : ` at ${eng(rate)}S/s`})${h.triggered ? ', triggered' : ''}`;
  axis.dataset.spanSeconds = rate === null ? '' : String(span);
  axis.dataset.rate = rate === null ? '' : String(rate);
  lastTime = frame;
  showCursors();
  const rows = (h.channels as Array<{ id: string }>).map((c, i) => {
    const m = h.measurements[c.id] as Record<string, number | null>;
    const cells = ['min', 'max', 'mean', 'rms', 'frequency'].map((k) => {
      const v = m[k];
      const td = el('td', {}, v === null || v === undefined ? '–' : k === 'frequency' ? `${eng(v, 5)}Hz` : eng(v, 5));
      td.dataset.m = k;
      td.dataset.value = v === null || v === undefined ? '' : String(v);
      return td;
    });
    const row = el('tr', {}, el('td', {}, swatch(i), c.id), ...cells);
    row.dataset.channel = c.id;
    return row;
  });
  $('measurements').replaceChildren(el('tr', {}, ...['', 'min', 'max', 'mean', 'RMS', 'frequency'].map((t) => el('th', {}, t))), ...rows);
}

/** The value of each trace at x (the column's middle, for reduced traces). */
function valuesAt(x: number): string[] {
  const frame = lastTime;
  if (frame === undefined) return [];
  const h = frame.header;
  const unit = h.rate === null ? 1 : 1 / h.rate;
  const index = Math.floor(x / unit - (h.samples - h.count));
  return frame.arrays.map((a, i) => {
    if (index < 0 || index >= h.count) return `${h.channels[i].id}: –`;
    if (!h.reduced) return `${h.channels[i].id}: ${eng(a[index]!, 5)}`;
    const n = a.length / 2;
    const c = Math.min(n - 1, Math.floor((index * n) / h.count));
    return `${h.channels[i].id}: ${eng((a[c]! + a[n + c]!) / 2, 5)}`;
  });
}

function showCursors(): void {
  const parts: string[] = [];
  const unit = lastTime?.header.rate === null ? '' : 's';
  if (cursors.a !== undefined) parts.push(`A ${eng(cursors.a)}${unit} [${valuesAt(cursors.a).join(', ')}]`);
  if (cursors.b !== undefined) parts.push(`B ${eng(cursors.b)}${unit} [${valuesAt(cursors.b).join(', ')}]`);
  if (cursors.a !== undefined && cursors.b !== undefined) {
    const dt = Math.abs(cursors.b - cursors.a);
    parts.push(`ΔA-B ${eng(dt)}${unit}${dt > 0 && unit === 's' ? `, 1/Δ ${eng(1 / dt)}Hz` : ''}`);
  }
  $('cursors').textContent = parts.length === 0 ? 'click: cursor A, shift+click: cursor B' : parts.join('   ');
}

function drawSpectrum(frame: Frame): void {
  const h = frame.header;
  const end = h.startHz + h.bins * h.binHz;
  spectrumPlot.x = { min: h.startHz, max: end, label: 'frequency (Hz)' };
  spectrumPlot.y = { min: -160, max: 10, label: 'dBFS', format: (v) => v.toFixed(0) };
  spectrumPlot.clear();
  const step = (end - h.startHz) / frame.arrays[0]!.length;
  if (h.hold) spectrumPlot.line(frame.arrays[1]!, '#ef6f6c', h.startHz, step);
  spectrumPlot.line(frame.arrays[0]!, COLORS[1]!, h.startHz, step);
  const peaks = h.peaks as Array<{ frequency: number; dbfs: number }>;
  peaks.forEach((p, i) => spectrumPlot.marker(p.frequency, p.dbfs, '#fff', `M${i + 1}`));
  $('peaks').replaceChildren(...peaks.map((p, i) => {
    const li = el('li', {}, `M${i + 1}: ${eng(p.frequency, 6)}Hz, ${p.dbfs.toFixed(1)} dBFS`);
    li.dataset.hz = String(p.frequency);
    li.dataset.db = String(p.dbfs);
    li.dataset.binHz = String(h.binHz);
    return li;
  }));
}

function drawXy(frame: Frame): void {
  const [x, y] = frame.arrays as [Float32Array, Float32Array];
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of [x, y]) for (const v of a) { if (v < lo) lo = v; if (v > hi) hi = v; }
  const r = xyRange.update(lo, hi);
  xyPlot.x = { min: r.min, max: r.max, label: frame.header.channels[0] };
  xyPlot.y = { min: r.min, max: r.max, label: frame.header.channels[1] };
  xyPlot.clear();
  xyPlot.points(x, y, COLORS[0]!);
}

function draw(): void {
  const frame = pending;
  pending = undefined;
  if (frame === undefined) return;
  const type = frame.header.type;
  if (type === 'time') drawTime(frame);
  else if (type === 'spectrum') drawSpectrum(frame);
  else if (type === 'xy') drawXy(frame);
  const now = performance.timeOrigin + performance.now();
  stats.framesDrawn++;
  stats.lastHeader = frame.header;
  stats.latencyMs = now - frame.header.capturedAt;
  stats.latencies.push(stats.latencyMs);
  if (stats.latencies.length > 200) stats.latencies.shift();
  drawTimes.push(now);
  while (drawTimes.length > 0 && drawTimes[0]! < now - 1000) drawTimes.shift();
  stats.fps = drawTimes.length;
  conn.tell('ack', { seq: frame.header.seq });
}

conn.onFrame = (frame) => {
  const expected = tab === 'time' ? 'time' : tab;
  if (frame.header.type !== expected) {
    conn.tell('ack', { seq: frame.header.seq });
    return;
  }
  if (pending !== undefined) conn.tell('ack', { seq: pending.header.seq }); // superseded before it was drawn
  pending = frame;
  requestAnimationFrame(draw);
};

// ---- generator and recorder ----

function fillGenerator(): void {
  const d = devices.find((x) => x.id === $<HTMLSelectElement>('gen-device').value);
  const list = scanChannels(d, true);
  $('gen-channels').replaceChildren(...list.map((c) => {
    const box = el('input', { type: 'checkbox', checked: true });
    box.dataset.channel = c.id;
    box.addEventListener('change', fillTones);
    return el('label', {}, box, c.id);
  }));
  fillTones();
}

function genChannels(): string[] {
  return [...document.querySelectorAll<HTMLInputElement>('#gen-channels input:checked')].map((i) => i.dataset.channel!);
}

function iqPairs(ids: string[]): boolean {
  return ids.length > 0 && ids.length % 2 === 0 && ids.every((id, i) => (i % 2 === 0 ? /_i$/.test(id) && ids[i + 1] === id.replace(/_i$/, '_q') : true));
}

function fillTones(): void {
  const ids = genChannels();
  const names = iqPairs(ids) ? ids.filter((_, i) => i % 2 === 0).map((id) => `${id.replace(/_i$/, '')} (I/Q)`) : ids;
  $('tones').replaceChildren(...names.map((name, k) => el('div', {},
    `${name}: `,
    el('label', {}, 'frequency (Hz) ', el('input', { type: 'number', value: String(10000 * (k + 1)), step: 'any', className: 'tone-frequency' })),
    el('label', {}, 'amplitude (0…1) ', el('input', { type: 'number', value: '0.5', min: '0', max: '1', step: 'any', className: 'tone-amplitude' })),
    el('label', {}, 'phase (°) ', el('input', { type: 'number', value: '0', step: 'any', className: 'tone-phase' })))));
}

function genStatus(text: string, error = false): void {
  $('gen-status').textContent = text;
  $('gen-status').className = error ? 'status error' : 'status';
}

function describeGenerator(g: Record<string, any>): string {
  return `playing ${g.channels.join(', ')} on ${g.device}, ${g.mode}, ${g.samples} samples a block${g.frequencies ? `, tones at ${g.frequencies.map((f: number) => `${eng(f, 6)}Hz`).join(', ')}` : ''}`;
}

async function playTone(): Promise<void> {
  const value = (cls: string): number[] => [...document.querySelectorAll<HTMLInputElement>(`#tones .${cls}`)].map((i) => Number(i.value));
  const [f, a, p] = [value('tone-frequency'), value('tone-amplitude'), value('tone-phase')];
  try {
    const { generator } = await conn.request('generator.start', {
      device: $<HTMLSelectElement>('gen-device').value, channels: genChannels(), mode: $<HTMLSelectElement>('gen-mode').value,
      source: { kind: 'tone', tones: f.map((frequency, i) => ({ frequency, amplitude: a[i], phase: p[i] })) },
    });
    genStatus(describeGenerator(generator));
    $('gen-status').dataset.frequencies = JSON.stringify(generator.frequencies);
  } catch (e) {
    genStatus((e as Error).message, true);
  }
}

async function playFile(): Promise<void> {
  const file = $<HTMLInputElement>('gen-file').files?.[0];
  if (file === undefined) return genStatus('choose a file first', true);
  const q = new URLSearchParams({ device: $<HTMLSelectElement>('gen-device').value, channels: genChannels().join(','), mode: $<HTMLSelectElement>('gen-mode').value, format: $<HTMLSelectElement>('gen-format').value });
  if (token !== '') q.set('token', token);
  const reply = await fetch(`/api/generate?${q.toString()}`, { method: 'POST', body: file }).then((r) => r.json());
  if (reply.ok) genStatus(describeGenerator(reply.generator));
  else genStatus(reply.error.message, true);
}

function download(href: string, name: string): void {
  const a = el('a', { href, download: name });
  document.body.append(a);
  a.click();
  a.remove();
}

let recording: string | undefined;
conn.on('recorded', (m) => {
  stats.recordings.push(m);
  if (m.id === recording) recording = undefined;
  const base = `/recordings/${m.id}/${m.name}`;
  const q = token === '' ? '' : `?token=${encodeURIComponent(token)}`;
  $('rec-status').textContent = `${m.name}: ${m.scans} samples (${m.bytes} bytes), ${m.reason}`;
  $('recordings').prepend(el('li', {}, `${m.name} (${m.scans} samples): `,
    el('a', { href: `${base}.sigmf-meta${q}`, download: `${m.name}.sigmf-meta` }, 'meta'), ' ',
    el('a', { href: `${base}.sigmf-data${q}`, download: `${m.name}.sigmf-data` }, 'data')));
  download(`${base}.sigmf-meta${q}`, `${m.name}.sigmf-meta`);
  download(`${base}.sigmf-data${q}`, `${m.name}.sigmf-data`);
});

async function startRecording(): Promise<void> {
  try {
    const reply = await conn.request('record.start', { device: $<HTMLSelectElement>('device').value, channels: chosenChannels(), samples: Number($<HTMLInputElement>('rec-samples').value) });
    recording = reply.recording;
    $('rec-status').textContent = 'recording…';
  } catch (e) {
    $('rec-status').textContent = (e as Error).message;
  }
}

// ---- wiring ----

function showTab(next: Tab): void {
  tab = next;
  document.querySelectorAll<HTMLButtonElement>('#tabs button').forEach((b) => b.classList.toggle('active', b.dataset.tab === next));
  document.querySelectorAll<HTMLElement>('.tab').forEach((t) => { t.hidden = t.id !== `tab-${next}`; });
  $('source').hidden = next === 'generator';
  void sendView();
}

function setRun(mode: typeof run): void {
  run = mode;
  void sendView();
}

conn.on('status', (m) => {
  stats.status = m;
  const c = (m.captures as Array<Record<string, any>>).find((x) => x.device === $<HTMLSelectElement>('device').value);
  const capture = c === undefined || !c.running ? 'not capturing' : `${eng(c.rate ?? 0)}S/s, ${c.blocks} blocks, ${c.overruns} overruns (${c.samplesLost} samples lost)`;
  $('status').textContent = `${capture}; frames ${m.frames.sent} sent, ${m.frames.dropped} dropped; ${stats.fps} fps`;
});
conn.on('error', (m) => { $('status').textContent = m.message; });
conn.on('closed', () => { $('status').textContent = 'disconnected'; });

async function start(): Promise<void> {
  await conn.opened;
  const hello = await conn.request('hello');
  devices = hello.tree.devices;
  $('context').textContent = `${hello.tree.uri}${hello.readOnly ? ' (read-only)' : ''}`;
  buildTree(hello.tree.description);
  $('device').replaceChildren(...captureDevices().map((d) => el('option', { value: d.id }, deviceTitle(d))));
  $('gen-device').replaceChildren(...outputDevices().map((d) => el('option', { value: d.id }, deviceTitle(d))));
  $('fft-size').replaceChildren(...(hello.fftSizes as number[]).map((n) => el('option', { value: String(n), selected: n === 4096 }, String(n))));
  $('fft-window').replaceChildren(...WINDOWS.map((w) => el('option', { value: w }, w)));
  fillChannels();
  fillGenerator();
  document.body.dataset.ready = 'true';
}

document.querySelectorAll<HTMLButtonElement>('#tabs button').forEach((b) => b.addEventListener('click', () => showTab(b.dataset.tab as Tab)));
$('device').addEventListener('change', () => { fillChannels(); void sendView(); });
for (const id of ['samples', 'units', 'rolling', 'trigger-on', 'trigger-channel', 'trigger-edge', 'trigger-level', 'fft-size', 'fft-window', 'fft-average', 'fft-hold', 'fft-markers', 'fft-complex']) {
  $(id).addEventListener('change', () => { if (id === 'units') timeRange.reset(); void sendView(); });
}
$('run').addEventListener('click', () => setRun('run'));
$('single').addEventListener('click', () => setRun('single'));
$('stop').addEventListener('click', () => setRun('stop'));
$('time-plot').addEventListener('click', (e) => {
  const x = timePlot.xAt(e.offsetX);
  if (e.shiftKey) cursors.b = x;
  else cursors.a = x;
  showCursors();
});
$('gen-device').addEventListener('change', fillGenerator);
$('gen-tone').addEventListener('click', () => void playTone());
$('gen-upload').addEventListener('click', () => void playFile());
$('gen-stop').addEventListener('click', () => void conn.request('generator.stop', { device: $<HTMLSelectElement>('gen-device').value }).then(() => genStatus('stopped')));
$('rec-start').addEventListener('click', () => void startRecording());
$('rec-stop').addEventListener('click', () => { if (recording !== undefined) conn.tell('record.stop', { recording }); });
void start().catch((e: Error) => { $('status').textContent = e.message; });

// `npm run bench`: runs every benchmark of bench/ (each in a process of its own, bounded in time),
// then writes one JSON report (docs/performance.json) and the table of docs/performance.md
// (between its bench markers; the analysis around them is written by hand). Each benchmark
// prints JSON with `rows`: figures beside the baselines measured in the same run.
//   node dist/bench/run.js [--only name,name…]
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { machine, sig, type Row } from './stats.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const dist = `${repo}dist/bench/`;
const LINE = 'IIOJS-BENCH ';

interface Bench {
  name: string;
  /** What the benchmark needs that is not Node: prepared before it runs. */
  prepare?: () => Promise<void>;
  /** Rows measured after it, from its report (which it may annotate). */
  after?: (report: Record<string, unknown>) => Promise<Row[]>;
  command: [string, ...string[]];
  timeoutS: number;
}

const node = (script: string, timeoutS: number, ...args: string[]): Pick<Bench, 'command' | 'timeoutS'> =>
  ({ command: [process.execPath, `${dist}${script}.js`, ...args], timeoutS });

/** The C DMABUF loop the lab benchmarks compare with. */
async function buildCCapture(): Promise<void> {
  mkdirSync(`${repo}bench/out`, { recursive: true });
  await run(['cc', '-O2', '-Wall', '-o', `${repo}bench/out/dmabuf-capture`, `${repo}bench/c/dmabuf-capture.c`], 60);
}

const inLab = (script: string, timeoutS: number): Pick<Bench, 'command' | 'timeoutS'> =>
  ({ command: [`${repo}vm/run-guest.sh`, '--timeout', String(timeoutS - 300), '--', process.execPath, `${dist}${script}.js`], timeoutS });

const BENCHES: Bench[] = [
  { name: 'addon-syscalls', ...node('addon-syscalls', 300) },
  { name: 'sim-capture', ...node('sim-capture', 300) },
  { name: 'demux', ...node('demux', 300) },
  { name: 'stream', ...node('stream', 600) },
  { name: 'iiod-readdev', ...node('iiod-readdev', 600) },
  { name: 'iiod-client', ...node('iiod-client', 600) },
  { name: 'iiod-share', ...node('iiod-share', 600) },
  { name: 'scope', ...node('scope', 300) },
  { name: 'lab-capture', prepare: buildCCapture, ...inLab('lab-capture', 1500), after: async (report) => [await labCalibration(report)] },
  {
    name: 'lab-syscalls',
    prepare: async () => {
      await run(['strace', '-V'], 10).catch(() => { throw new Error('lab-syscalls counts with strace: apt-get install strace'); });
      await buildCCapture();
    },
    ...inLab('lab-syscalls', 1200),
  },
  { name: 'lab-usb-serve', ...inLab('lab-usb-serve', 1500) },
];

function run(command: readonly string[], timeoutS: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command[0]!, command.slice(1), { cwd: repo, timeout: timeoutS * 1000, maxBuffer: 64 << 20, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command.join(' ')}: ${error.message.split('\n')[0]}\n${stderr.slice(-2000)}`));
      else resolve(stdout);
    });
  });
}

/** The benchmark's JSON: its whole stdout, or the marked line when it ran in the lab guest. */
function parse(stdout: string): Record<string, unknown> & { rows?: Row[] } {
  // The guest's console may put terminal escapes before it on the same line.
  const marked = stdout.split('\n').find((l) => l.includes(LINE));
  return JSON.parse(marked === undefined ? stdout : marked.slice(marked.indexOf(LINE) + LINE.length)) as Record<string, unknown> & { rows?: Row[] };
}

/** What emulation costs JavaScript in the lab: the same sim loop in the guest and here. */
async function labCalibration(guest: Record<string, unknown>): Promise<Row> {
  const host = parse(await run([process.execPath, `${dist}lab-capture.js`, '--calibrate'], 120));
  const inGuest = guest['simLoopUsPerBlock'] as number;
  const onHost = host['simLoopUsPerBlock'] as number;
  guest['hostSimLoopUsPerBlock'] = onHost;
  return {
    figure: 'lab calibration: the library loop over the sim (pure JS) in the TCG guest', value: sig(inGuest), unit: 'µs/block',
    baseline: { name: 'the same loop on the host', value: sig(onHost), unit: 'µs/block' }, ratio: sig(inGuest / onHost),
  };
}

const format = (x: number): string => (Number.isInteger(x) ? x.toLocaleString('en-US') : String(x));

function table(rows: readonly (Row & { bench: string })[]): string {
  const lines = [
    '| figure | measured | spread | baseline, same run | ratio | goal |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const baseline = r.baseline === undefined ? '—' : `${r.baseline.name}: ${format(r.baseline.value)} ${r.baseline.unit}`;
    const goal = r.goal === undefined ? '' : `${r.goal} ${r.met === true ? '✔' : r.met === false ? '✘' : ''}`.trim();
    lines.push(`| ${r.figure} | ${format(r.value)} ${r.unit} | ${r.spread ?? ''} | ${baseline} | ${r.ratio === undefined ? '' : `${r.ratio}×`} | ${goal} |`);
  }
  return lines.join('\n');
}

function writeMarkdown(rows: readonly (Row & { bench: string })[], failures: readonly string[], when: string): void {
  const path = `${repo}docs/performance.md`;
  const begin = '<!-- bench:begin -->';
  const end = '<!-- bench:end -->';
  const m = machine();
  const block = [
    begin,
    `Measured ${when} by \`npm run bench\` on ${m.cores} cores (${m.cpu}), Node ${m.node}, ${m.arch}. ` +
      'Ratios are measured ÷ baseline. Raw figures: `docs/performance.json`.',
    '',
    table(rows),
    ...(failures.length === 0 ? [] : ['', 'Benchmarks that failed in this run:', ...failures.map((f) => `- ${f}`)]),
    end,
  ].join('\n');
  const text = existsSync(path) ? readFileSync(path, 'utf8') : `# Performance\n\n${begin}\n${end}\n`;
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${path}: the ${begin} … ${end} markers are missing`);
  writeFileSync(path, text.slice(0, from) + block + text.slice(to + end.length));
}

const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1]!.split(',') : undefined;
const selected = BENCHES.filter((b) => only === undefined || only.includes(b.name));
if (only !== undefined && selected.length !== only.length) {
  throw new Error(`unknown benchmark in --only ${only.join(',')}; known: ${BENCHES.map((b) => b.name).join(', ')}`);
}
const when = new Date().toISOString();
const reportPath = `${repo}docs/performance.json`;
const reports: Record<string, unknown> = {};
const rows: (Row & { bench: string })[] = [];
if (only !== undefined && existsSync(reportPath)) {
  // A partial run keeps the other benchmarks' figures of the last full report.
  const last = JSON.parse(readFileSync(reportPath, 'utf8')) as { rows: (Row & { bench: string })[]; reports: Record<string, unknown> };
  for (const [name, report] of Object.entries(last.reports)) if (!only.includes(name)) reports[name] = report;
  rows.push(...last.rows.filter((r) => !only.includes(r.bench)));
}
const failures: string[] = [];
for (const bench of selected) {
  process.stderr.write(`bench: ${bench.name}…\n`);
  const t0 = Date.now();
  try {
    await bench.prepare?.();
    const report = parse(await run(bench.command, bench.timeoutS));
    const benchRows = [...(report.rows ?? [])];
    benchRows.push(...(await bench.after?.(report) ?? []));
    reports[bench.name] = report;
    rows.push(...benchRows.map((r) => ({ bench: bench.name, ...r })));
  } catch (e) {
    failures.push(`${bench.name}: ${(e as Error).message.split('\n')[0]}`);
    reports[bench.name] = { error: (e as Error).message };
  }
  process.stderr.write(`bench: ${bench.name} ${failures.at(-1)?.startsWith(bench.name) ? 'FAILED' : 'done'} in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
}
// The table in BENCHES order, whichever ran now.
const order = (r: { bench: string }): number => BENCHES.findIndex((b) => b.name === r.bench);
rows.sort((a, b) => order(a) - order(b));
writeFileSync(reportPath, JSON.stringify({ when, machine: machine(), rows, reports }, null, 2) + '\n');
writeMarkdown(rows, failures, when);
process.stdout.write(`${table(rows)}\n`);
if (failures.length > 0) {
  process.stderr.write(`bench: ${failures.length} failed:\n${failures.join('\n')}\n`);
  process.exitCode = 1;
}

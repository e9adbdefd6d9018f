// `iio doctor`: what a kernel offers for IIO streaming, and what to do about what is missing.
import { release } from 'node:os';
import { addonPath, loadAddon } from '../kernel/linux/addon.js';
import { KERNEL_URIS, openKernel } from '../kernel/open.js';
import { probeKernel, type KernelReport, type NamedEntry, type ProbeResult } from '../kernel/probe.js';
import { operands, parseCommand, uriHelp } from './args.js';
import type { CliEnv } from './env.js';
import { NO_IIO_ADVICE } from './explain.js';

export const doctorHelp = `Usage: iio doctor [-u <uri>] [--json]

Checks what a kernel offers for IIO streaming: IIO devices and triggers, DMA heaps and udmabuf
(the DMABUF allocators zero-copy streaming needs), memfd seals, and for the real kernel the
native addon. Every feature is detected by trying it.

Options:
${uriHelp(KERNEL_URIS)}
      --json              print the report as JSON

Examples:
  iio doctor
  iio doctor -u sim:
  iio doctor --json | jq .dmaHeaps
`;

function line(label: string, result: ProbeResult, hint?: string): string {
  if (result.ok) return `${label.padEnd(16)}ok    ${result.detail}`;
  const why = result.message.startsWith(result.code) ? result.message : `${result.code}: ${result.message}`;
  return `${label.padEnd(16)}no    ${why}${hint ? `\n${''.padEnd(22)}${hint}` : ''}`;
}

function entries(list: NamedEntry[]): string[] {
  return list.map((e) => `${''.padEnd(22)}${e.id}${e.name === undefined ? '' : `  ${e.name}`}`);
}

function summary(report: KernelReport): string {
  const heap = report.dmaHeaps.heaps.find((h) => h.alloc.ok);
  if (heap) return `DMABUF zero-copy blocks available (DMA heap "${heap.name}")`;
  if (report.udmabuf.ok) return 'DMABUF zero-copy blocks available (udmabuf)';
  return 'no DMABUF allocator: buffers fall back to read()/write() file I/O';
}

function addonStatus(): ProbeResult {
  try {
    loadAddon();
    return { ok: true, detail: addonPath() };
  } catch (e) {
    return { ok: false, code: (e as { code: string }).code, message: (e as Error).message };
  }
}

export async function doctor(args: string[], env: CliEnv): Promise<number> {
  const { values, positionals } = parseCommand(args, { uri: { type: 'string', short: 'u', default: 'local:' }, json: { type: 'boolean' } });
  operands(positionals, 0, 0, '');
  const uri = values.uri!;
  const local = uri === 'local:';
  const addon = local ? addonStatus() : undefined;
  const report = addon?.ok === false ? undefined : await probeKernel(openKernel(uri));

  if (values.json) {
    const kernel = local ? release() : uri;
    env.stdout.write(JSON.stringify({ uri, kernel, node: process.version, addon, ...report }, null, 2) + '\n');
    return 0;
  }
  const out = [local ? `Linux ${release()} (${process.arch}), Node ${process.version}` : `${uri} (simulated kernel), Node ${process.version}`];
  if (addon) out.push(line('native addon', addon));
  if (report) {
    out.push(line('IIO', report.iio, NO_IIO_ADVICE));
    out.push(...entries(report.iio.devices), ...entries(report.iio.triggers));
    out.push(line('DMA heaps', report.dmaHeaps, 'CONFIG_DMABUF_HEAPS_SYSTEM gives /dev/dma_heap/system'));
    for (const heap of report.dmaHeaps.heaps) out.push(line(`  ${heap.name}`, heap.alloc));
    out.push(line('udmabuf', report.udmabuf, 'CONFIG_UDMABUF gives /dev/udmabuf'));
    out.push(line('memfd + seals', report.memfd));
    out.push('', summary(report));
  }
  env.stdout.write(out.join('\n') + '\n');
  return 0;
}

// `iio doctor`: what this machine offers for IIO streaming, and what to do about what is missing.
import { release } from 'node:os';
import { addonPath, loadAddon } from '../kernel/linux/addon.js';
import { LinuxKernel } from '../kernel/linux/index.js';
import { probeKernel, type KernelReport, type ProbeResult } from '../kernel/probe.js';

export const doctorHelp = `Usage: iio doctor [--json]

Checks what this machine's kernel offers for IIO streaming: the native addon, IIO devices and
triggers, DMA heaps and udmabuf (the DMABUF allocators zero-copy streaming needs), memfd seals.
Every feature is detected by trying it.

Options:
  --json    print the report as JSON

Examples:
  iio doctor
  iio doctor --json | jq .dmaHeaps
`;

function line(label: string, result: ProbeResult, hint?: string): string {
  const why = !result.ok && result.message.startsWith(result.code) ? result.message : !result.ok ? `${result.code}: ${result.message}` : '';
  const status = result.ok ? `ok    ${result.detail}` : `no    ${why}`;
  return `${label.padEnd(16)}${status}${!result.ok && hint ? `\n${''.padEnd(22)}${hint}` : ''}`;
}

function summary(report: KernelReport): string {
  const heap = report.dmaHeaps.heaps.find((h) => h.alloc.ok);
  if (heap) return `DMABUF zero-copy blocks available (DMA heap "${heap.name}")`;
  if (report.udmabuf.ok) return 'DMABUF zero-copy blocks available (udmabuf)';
  return 'no DMABUF allocator: buffers fall back to read()/write() file I/O';
}

export async function doctor(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const unknown = args.filter((a) => a !== '--json');
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown[0]} for doctor (see 'iio doctor --help')`);

  const addon: ProbeResult = (() => {
    try {
      loadAddon();
      return { ok: true, detail: addonPath() };
    } catch (e) {
      return { ok: false, code: (e as { code: string }).code, message: (e as Error).message };
    }
  })();
  const report = addon.ok ? await probeKernel(new LinuxKernel()) : undefined;
  if (json) {
    process.stdout.write(JSON.stringify({ kernel: release(), node: process.version, addon, ...report }, null, 2) + '\n');
    return 0;
  }
  const out = [`Linux ${release()} (${process.arch}), Node ${process.version}`, line('native addon', addon)];
  if (report) {
    out.push(line('IIO', report.iio, 'no IIO devices: load a driver, or try the simulated devices (sim:)'));
    out.push(line('DMA heaps', report.dmaHeaps, 'CONFIG_DMABUF_HEAPS_SYSTEM gives /dev/dma_heap/system'));
    for (const heap of report.dmaHeaps.heaps) out.push(line(`  ${heap.name}`, heap.alloc));
    out.push(line('udmabuf', report.udmabuf, 'CONFIG_UDMABUF gives /dev/udmabuf'));
    out.push(line('memfd + seals', report.memfd));
    out.push('', summary(report));
  }
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}

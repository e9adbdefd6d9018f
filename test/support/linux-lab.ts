// The lab's kernel-side controls on a real kernel (inside vm/run-guest.sh): the probe's devices
// are made fresh for each boot of the suite — iio_dummy "dummy0" and the hrtimer trigger "t0"
// through configfs, "sysfstrig0" through iio_sysfs_trigger, then the test module
// (vm/module/iio_vadc_dma.c: vadc-dma, lab-adc, lab-dac) — and the controls the sim offers map
// to the module's parameters and to rmmod. Removing the devices "like rmmod" runs the real rmmod
// when a /dev node is open (the kernel answers EAGAIN: the chrdev pins the module); otherwise it
// unregisters the devices through the module's `unplug` parameter and keeps its code loaded,
// because open buffer fds (which do not pin the module) would run unloaded code when closed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, writeFileSync } from 'node:fs';
import { errnoOf, systemError } from '../../src/errors.js';
import type { LinuxKernel } from '../../src/kernel/linux/index.js';
import type { BufferControl, BufferStats, DeviceControl, IioControl } from '../../src/kernel/sim/iio/index.js';

const MODULE = 'iio_vadc_dma';
const PARAMS = `/sys/module/${MODULE}/parameters`;
const CONFIGFS = '/sys/kernel/config/iio';
const MODULE_DEVICES = ['vadc-dma', 'lab-adc', 'lab-dac'];

function modulePath(): string {
  const path = process.env['IIOJS_VM_MODULE'];
  if (path === undefined || !existsSync(path)) {
    throw new Error(`IIOJS_VM_MODULE (${path}) names no module: run the real-kernel tier through vm/run-guest.sh`);
  }
  return path;
}

function moduleLoaded(): boolean {
  return existsSync(`/sys/module/${MODULE}`);
}

/** Runs rmmod; a module in use is EAGAIN, as delete_module(O_NONBLOCK) answers. */
function rmmod(): void {
  try {
    execFileSync('rmmod', [MODULE], { stdio: 'pipe' });
  } catch (e) {
    const stderr = String((e as { stderr?: Buffer }).stderr ?? '');
    if (/in use|temporarily unavailable/i.test(stderr)) throw systemError(errnoOf('EAGAIN'), 'delete_module', MODULE, stderr.trim());
    throw e;
  }
}

/** Closes every IIO, DMABUF and sync_file fd this process still holds, as a fresh process would have none. */
function closeKernelFds(kernel: LinuxKernel): void {
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${name}`);
    } catch {
      continue;
    }
    if (/^\/dev\/iio:|anon_inode:iio|^\/dmabuf:|anon_inode:sync_file|^\/dev\/dma_heap\/|^\/dev\/udmabuf|^\/memfd:/.test(target)) {
      kernel.close(fd);
    }
  }
}

function param(name: string, value: string | number): void {
  writeFileSync(`${PARAMS}/${name}`, String(value));
}

/** Whether any process holds a /dev node of the module's devices open (rmmod would be EAGAIN). */
function moduleDevNodeOpen(): boolean {
  const nodes = new Set<string>();
  for (const entry of readdirSync('/sys/bus/iio/devices')) {
    if (!entry.startsWith('iio:device')) continue;
    const name = readFileSync(`/sys/bus/iio/devices/${entry}/name`, 'utf8').trim();
    if (MODULE_DEVICES.includes(name)) nodes.add(`/dev/${entry}`);
  }
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (nodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return true;
      } catch {
        // the fd closed meanwhile
      }
    }
  }
  return false;
}

/** Removes and re-creates the probe's devices, in the probe's order (so the same numbers). */
export function resetLinuxLab(kernel: LinuxKernel): void {
  closeKernelFds(kernel);
  if (moduleLoaded()) rmmod();
  const sysfsTrigger = '/sys/bus/iio/devices/iio_sysfs_trigger';
  if (existsSync('/sys/bus/iio/devices/trigger1')) writeFileSync(`${sysfsTrigger}/remove_trigger`, '0');
  if (existsSync(`${CONFIGFS}/triggers/hrtimer/t0`)) rmdirSync(`${CONFIGFS}/triggers/hrtimer/t0`);
  if (existsSync(`${CONFIGFS}/devices/dummy/dummy0`)) rmdirSync(`${CONFIGFS}/devices/dummy/dummy0`);

  mkdirSync(`${CONFIGFS}/devices/dummy/dummy0`);
  mkdirSync(`${CONFIGFS}/triggers/hrtimer/t0`);
  writeFileSync(`${sysfsTrigger}/add_trigger`, '0');
  execFileSync('insmod', [modulePath()], { stdio: 'pipe' });
}

function bufferControl(device: string, index: number): BufferControl {
  const unsupported = (what: string): never => {
    throw new Error(`${what} on ${device}: the real-kernel lab has no such control`);
  };
  if (!MODULE_DEVICES.includes(device)) unsupported('DMA controls');
  return {
    index,
    get delayMs() {
      return unsupported('reading delayMs');
    },
    set delayMs(ms: number) {
      param('delay_us', Math.round(ms * 1000));
    },
    get dmaMode() {
      return unsupported('reading dmaMode');
    },
    set dmaMode(mode) {
      param('null_dma', mode === 'null' ? 'Y' : 'N');
    },
    stall: () => param('stall', 'Y'),
    resume: () => param('stall', 'N'),
    failNext: (code = 'EIO') => param('fail_next', errnoOf(code)),
    burst: () => unsupported('burst'),
    get stats() {
      return moduleStats(device, unsupported);
    },
  };
}

/**
 * What the module's device attributes tell of the sim's BufferStats: bytes (received_bytes for
 * the DAC, completed_bytes for the ADCs) and the DAC's checksum (the same FNV-1a as the sim's).
 */
function moduleStats(device: string, unsupported: (what: string) => never): BufferStats {
  const sys = `/sys/bus/iio/devices/${deviceControl(device).devName}`;
  const read = (attr: string): number => Number(readFileSync(`${sys}/${attr}`, 'utf8'));
  const stats = {
    get bytes() {
      return read(device === 'lab-dac' ? 'received_bytes' : 'completed_bytes');
    },
    get checksum() {
      return device === 'lab-dac' ? read('checksum') : unsupported('checksum of an input');
    },
  };
  for (const field of ['blocks', 'last', 'failed', 'aborted', 'lost', 'queued', 'active'] as const) {
    Object.defineProperty(stats, field, { get: () => unsupported(`stats.${field}`) });
  }
  return stats as BufferStats;
}

/** The iio:deviceN a device named `name` is registered as, if it is. */
function registeredAs(name: string): string | undefined {
  return readdirSync('/sys/bus/iio/devices').find(
    (e) => e.startsWith('iio:device') && readFileSync(`/sys/bus/iio/devices/${e}/name`, 'utf8').trim() === name,
  );
}

function deviceControl(name: string): DeviceControl {
  return {
    name,
    get devName(): string {
      const entry = registeredAs(name);
      if (entry === undefined) throw new Error(`no IIO device named ${name}`);
      return entry;
    },
    get gone(): boolean {
      return registeredAs(name) === undefined;
    },
    unplug(options = {}) {
      if (MODULE_DEVICES.includes(name)) {
        if (options.likeRmmod !== true) throw new Error('the lab removes module devices like rmmod only (likeRmmod: true)');
        if (moduleDevNodeOpen()) rmmod(); // fails with EAGAIN, as on the probe
        param('unplug', 1);
      } else {
        rmdirSync(`${CONFIGFS}/devices/dummy/${name}`);
      }
    },
    buffer: (index = 0) => bufferControl(name, index),
  };
}

export function linuxLabControls(): IioControl {
  return {
    get devices(): readonly string[] {
      return ['dummy0', ...(moduleLoaded() ? MODULE_DEVICES : [])];
    },
    device: deviceControl,
    reprobe(name: string): DeviceControl {
      if (MODULE_DEVICES.includes(name)) {
        // unplug=0 registers the module's devices again without reloading its code (buffer fds
        // of the removed ones may still be open); after a real rmmod, insmod
        if (moduleLoaded()) param('unplug', 0);
        else execFileSync('insmod', [modulePath()], { stdio: 'pipe' });
      } else {
        mkdirSync(`${CONFIGFS}/devices/dummy/${name}`);
      }
      return deviceControl(name);
    },
  };
}

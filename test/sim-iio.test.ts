// The simulated IIO hardware beyond what the probe recorded: triggered capture and its data,
// kfifo overflow, sysfs triggers, events, debugfs registers, playback and loopback, the DMA
// engine's pacing, null mode and faults, time modes, and removal. Sim only (it uses the sim's
// controls and scenarios the lab has no hardware for).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_READ,
  DMA_BUF_SYNC_START,
  DMA_BUF_SYNC_WRITE,
  IIO_GET_EVENT_FD_IOCTL,
  MAP_SHARED,
  O_RDWR,
  POLLIN,
  POLLOUT,
  PROT_READ,
  PROT_WRITE,
  decodeIioEventId,
  iioEventDataStruct,
} from '../src/abi/index.js';
import { SimKernel } from '../src/kernel/sim/index.js';
import type { Scenario } from '../src/kernel/sim/scenario-types.js';
import {
  attach,
  dmabufSync,
  enqueue,
  exportSyncFile,
  getBufferFd,
  heapBuffer,
  intArg,
  pollFor,
  setNonblock,
  syncFileInfo,
} from './support/iio-calls.js';
import { probeScenario } from './support/probe-scenario.js';

const DUMMY = '/sys/bus/iio/devices/iio:device0';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setup(k: SimKernel, dir: string, entries: Record<string, string>): Promise<void> {
  for (const [name, value] of Object.entries(entries)) await k.writeText(`${dir}/${name}`, value);
}

describe('triggered kfifo capture (iio_dummy)', () => {
  test('an hrtimer trigger fills the kfifo with the channel values and timestamps', async () => {
    const k = new SimKernel({ scenario: probeScenario });
    await k.writeText('/sys/bus/iio/devices/trigger0/sampling_frequency', '1000');
    assert.equal(await k.readText('/sys/bus/iio/devices/trigger0/sampling_frequency'), '1000.000000\n');
    await setup(k, DUMMY, { 'trigger/current_trigger': 't0', 'buffer0/length': '64', 'buffer0/watermark': '8', 'buffer0/in_voltage0_en': '1', 'buffer0/in_accel_x_en': '1', 'buffer0/in_timestamp_en': '1' });
    const dev = await k.open('/dev/iio:device0', O_RDWR);
    await k.writeText(`${DUMMY}/buffer0/enable`, '1');
    const bytes = new Uint8Array(16 * 8);
    const n = await k.read(dev, bytes); // blocks until the watermark (8 scans)
    assert.equal(n, 16 * 8);
    const view = new DataView(bytes.buffer);
    let previous = 0n;
    for (let s = 0; s < 8; s++) {
      assert.equal(view.getUint16(s * 16, true), 7); // in_voltage0 (index 0): the driver's fakedata, not its read_raw value
      assert.equal(view.getInt16(s * 16 + 2, true), 344); // in_accel_x (index 3)
      const ts = view.getBigInt64(s * 16 + 8, true);
      if (s > 0) assert.ok(ts - previous >= 900_000n && ts - previous <= 1_100_000n, `timestamp step ${ts - previous}`);
      previous = ts;
    }
    await k.writeText(`${DUMMY}/buffer0/enable`, '0');
    k.close(dev);
  });

  test('a slow reader overflows the kfifo: new scans are dropped and counted', async () => {
    const k = new SimKernel({ scenario: probeScenario });
    await k.writeText('/sys/bus/iio/devices/trigger0/sampling_frequency', '1000');
    await setup(k, DUMMY, { 'trigger/current_trigger': 't0', 'buffer0/in_voltage0_en': '1' });
    await k.writeText(`${DUMMY}/buffer0/enable`, '1');
    await sleep(50);
    // length 2: the kfifo holds 2 scans; data_available counts scans (kfifo_len)
    assert.equal(await k.readText(`${DUMMY}/buffer0/data_available`), '2\n');
    const stats = k.iio.device('dummy0').buffer(0).stats;
    assert.ok(stats.lost > 30, `lost ${stats.lost}`);
    const control = k.iio.device('dummy0').buffer(0);
    const before = control.stats.lost;
    control.burst(10); // a burst into a full kfifo: all ten are lost
    assert.ok(control.stats.lost >= before + 10, `lost ${control.stats.lost}, was ${before}`);
  });

  test('sysfs triggers: add_trigger, trigger_now, remove_trigger', async () => {
    const k = new SimKernel({ scenario: probeScenario });
    await k.writeText('/sys/bus/iio/devices/iio_sysfs_trigger/add_trigger', '7');
    assert.equal(await k.readText('/sys/bus/iio/devices/trigger2/name'), 'sysfstrig7\n');
    await assert.rejects(k.writeText('/sys/bus/iio/devices/iio_sysfs_trigger/add_trigger', '7'), { code: 'EINVAL' });
    await setup(k, DUMMY, { 'trigger/current_trigger': 'sysfstrig7\n', 'buffer0/in_voltage0_en': '1', 'buffer0/enable': '1' });
    assert.equal(await k.readText(`${DUMMY}/buffer0/data_available`), '0\n');
    await k.writeText('/sys/bus/iio/devices/trigger2/trigger_now', '1');
    assert.equal(await k.readText(`${DUMMY}/buffer0/data_available`), '1\n');
    await k.writeText(`${DUMMY}/buffer0/enable`, '0');
    await k.writeText('/sys/bus/iio/devices/iio_sysfs_trigger/remove_trigger', '7');
    await assert.rejects(k.stat('/sys/bus/iio/devices/trigger2'), { code: 'ENOENT' });
  });

  test('enabling a triggered buffer without a trigger is EINVAL', async () => {
    const k = new SimKernel({ scenario: probeScenario });
    await k.writeText(`${DUMMY}/buffer0/in_voltage0_en`, '1');
    await assert.rejects(k.writeText(`${DUMMY}/buffer0/enable`, '1'), { code: 'EINVAL' });
  });
});

const eventScenario: Scenario = {
  devices: [{
    name: 'thermo',
    samplingFrequency: 1000,
    channels: [{ type: 'temp', scanIndex: 0, format: 'le:s16/16>>0', waveform: { kind: 'square', frequency: 20, amplitude: 100, offset: 0 } }],
    events: [{ channel: 0, type: 'thresh', direction: 'rising', value: 50 }],
  }],
};

describe('events', () => {
  test('a threshold crossing queues an iio_event_data on the event fd', async () => {
    const k = new SimKernel({ scenario: eventScenario });
    const sys = '/sys/bus/iio/devices/iio:device0';
    assert.equal(await k.readText(`${sys}/events/in_temp_thresh_rising_en`), '0\n');
    assert.equal(await k.readText(`${sys}/events/in_temp_thresh_rising_value`), '50\n');
    await k.writeText(`${sys}/events/in_temp_thresh_rising_en`, '1');
    const dev = await k.open('/dev/iio:device0', O_RDWR);
    const arg = intArg(0);
    k.ioctl(dev, IIO_GET_EVENT_FD_IOCTL, arg);
    const efd = arg[0]!;
    assert.throws(() => k.ioctl(dev, IIO_GET_EVENT_FD_IOCTL, intArg(0)), { code: 'EBUSY' });
    await assert.rejects(k.read(efd, new Uint8Array(8)), { code: 'EINVAL' });
    const record = new Uint8Array(16);
    assert.equal(await k.read(efd, record), 16); // blocks until the square wave rises
    const { id, timestamp } = iioEventDataStruct.decode(record);
    const fields = decodeIioEventId(id);
    assert.equal(fields.chanTypeName, 'IIO_TEMP');
    assert.equal(fields.directionName, 'IIO_EV_DIR_RISING');
    assert.equal(fields.typeName, 'IIO_EV_TYPE_THRESH');
    assert.ok(timestamp > 0n);
    setNonblock(k, efd, true);
    while (true) {
      try {
        await k.read(efd, record);
      } catch (e) {
        assert.equal((e as { code: string }).code, 'EAGAIN');
        break;
      }
    }
    k.close(efd);
    k.close(dev);
  });
});

describe('debugfs', () => {
  test('direct_reg_access selects, writes and reads registers as 0x%X', async () => {
    const k = new SimKernel(); // the default scenario's transceiver has registers
    const path = '/sys/kernel/debug/iio/iio:device1/direct_reg_access';
    await k.writeText(path, '0x37');
    assert.equal(await k.readText(path), '0xA\n');
    await k.writeText(path, '0x37 0x5f');
    assert.equal(await k.readText(path), '0x5F\n');
    await k.writeText(path, '0x1234');
    await assert.rejects(k.readText(path), { code: 'EINVAL' });
    await assert.rejects(k.writeText(path, 'zz'), { code: 'EINVAL' });
  });
});

// kernel-abi §6.6: "`*_available` lists either discrete values or `[min step max]`"; a driver
// refuses a value outside them with EINVAL and keeps the one it had.
describe('attributes with an _available list or range', () => {
  const refused = (path: string, detail: string) => ({ code: 'EINVAL', errno: -22, syscall: 'write', path, message: `EINVAL: invalid argument, write '${path}': ${detail}` });

  test('a value outside the list is EINVAL and changes nothing; a listed one is taken', async () => {
    const k = new SimKernel(); // the default transceiver PHY: ensm_mode beside ensm_mode_available
    const ensm = '/sys/bus/iio/devices/iio:device1/ensm_mode';
    await assert.rejects(k.writeText(ensm, 'bogus\n'), refused(ensm, '"bogus" is not in ensm_mode_available: sleep wait alert fdd pinctrl'));
    await assert.rejects(k.writeText(ensm, 'FDD'), { code: 'EINVAL' }, 'compared as written');
    assert.equal(await k.readText(ensm), 'fdd\n');
    await k.writeText(ensm, 'alert\n');
    assert.equal(await k.readText(ensm), 'alert\n');
  });

  test('numbers: a list compares values, a range takes its steps only; channel attributes and scale too', async () => {
    const k = new SimKernel({ scenario: { devices: [{
      name: 'gains',
      samplingFrequency: 1,
      samplingFrequencyAvailable: { min: 0.1, step: 0.1, max: 1 },
      attributes: { gain: 2, gain_available: '1 2 4' },
      channels: [{ type: 'voltage', index: 0, scale: 0.5, attributes: { scale_available: '0.25 0.5 1', hardwaregain: 10, hardwaregain_available: '[0 0.5 30]' } }],
    }] } });
    const dir = '/sys/bus/iio/devices/iio:device0';
    await assert.rejects(k.writeText(`${dir}/gain`, '3'), refused(`${dir}/gain`, '"3" is not in gain_available: 1 2 4'));
    await k.writeText(`${dir}/gain`, '4.0');
    assert.equal(await k.readText(`${dir}/gain`), '4\n');

    const gain = `${dir}/in_voltage0_hardwaregain`;
    for (const outside of ['30.5', '-0.5', '10.25']) {
      await assert.rejects(k.writeText(gain, outside), refused(gain, `"${Number(outside)}" is not in in_voltage0_hardwaregain_available: [0 0.5 30]`), outside);
    }
    assert.equal(await k.readText(gain), '10\n');
    await k.writeText(gain, '12.5');
    assert.equal(await k.readText(gain), '12.500000\n');

    await assert.rejects(k.writeText(`${dir}/in_voltage0_scale`, '0.3'), { code: 'EINVAL' });
    await k.writeText(`${dir}/in_voltage0_scale`, '1');
    assert.equal(await k.readText(`${dir}/in_voltage0_scale`), '1\n');

    // A decimal step: (0.3 - 0.1) / 0.1 is 1.9999999999999998 in binary, still step 2.
    await k.writeText(`${dir}/sampling_frequency`, '0.3');
    assert.equal(await k.readText(`${dir}/sampling_frequency`), '0.300000\n');
    await assert.rejects(k.writeText(`${dir}/sampling_frequency`, '0.35'), { code: 'EINVAL' });
  });
});

describe('the DMA engine', () => {
  const VADC = '/sys/bus/iio/devices/iio:device1';

  async function dmabufCapture(k: SimKernel): Promise<{ bfd: number; buf: number }> {
    const dev = await k.open('/dev/iio:device1', O_RDWR);
    const bfd = getBufferFd(k, dev, 0);
    k.close(dev);
    await setup(k, `${VADC}/buffer0`, { in_voltage0_en: '1', in_voltage1_en: '1' });
    const buf = await heapBuffer(k, 65536);
    attach(k, bfd, buf);
    await k.writeText(`${VADC}/buffer0/enable`, '1');
    return { bfd, buf };
  }

  test('null mode completes blocks without touching memory', async () => {
    const k = new SimKernel({ scenario: probeScenario });
    k.iio.device('vadc-dma').buffer(0).dmaMode = 'null';
    const { bfd, buf } = await dmabufCapture(k);
    enqueue(k, bfd, buf, 65536);
    assert.equal(await pollFor(k, buf, POLLIN, 1000), POLLIN);
    dmabufSync(k, buf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
    const map = k.mmap(buf, 65536, PROT_READ, MAP_SHARED);
    assert.ok(map.every((b) => b === 0));
    k.munmap(map);
    assert.equal(k.iio.device('vadc-dma').buffer(0).stats.blocks, 1);
  });

  test('stall holds blocks until resume; failNext makes the driver refuse one block, as 6.12 does', async () => {
    const k = new SimKernel({ scenario: probeScenario });
    const control = k.iio.device('vadc-dma').buffer(0);
    const { bfd, buf } = await dmabufCapture(k);
    control.stall();
    enqueue(k, bfd, buf, 65536);
    assert.equal(await pollFor(k, buf, POLLIN, 100), 0);
    assert.equal(control.stats.active, 1);
    control.resume();
    assert.equal(await pollFor(k, buf, POLLIN, 1000), POLLIN);
    // Refused at enable: an exported sync file sees the error (as test/lab/module.test.ts on Linux).
    await k.writeText(`${VADC}/buffer0/enable`, '0');
    enqueue(k, bfd, buf, 65536);
    const sync = exportSyncFile(k, buf, DMA_BUF_SYNC_READ);
    control.failNext('EIO');
    await k.writeText(`${VADC}/buffer0/enable`, '1');
    assert.equal(await pollFor(k, buf, POLLIN, 1000), POLLIN);
    assert.equal(syncFileInfo(k, sync).status, -5);
    assert.equal(control.stats.failed, 1);
    // The refused block stays ACTIVE: no second enqueue, not even after a disable.
    setNonblock(k, bfd, true);
    assert.throws(() => enqueue(k, bfd, buf, 65536), { code: 'EBUSY' });
    await k.writeText(`${VADC}/buffer0/enable`, '0');
    assert.throws(() => enqueue(k, bfd, buf, 65536), { code: 'EBUSY' });
  });

  test('failNext on an enabled buffer: the fence fails inside ENQUEUE, a later export gets the stub', async () => {
    const k = new SimKernel({ scenario: probeScenario });
    const control = k.iio.device('vadc-dma').buffer(0);
    const { bfd, buf } = await dmabufCapture(k);
    control.failNext('EIO');
    assert.equal(enqueue(k, bfd, buf, 65536), 0);
    assert.equal(await pollFor(k, buf, POLLOUT, 0), POLLOUT, 'already signalled');
    assert.equal(syncFileInfo(k, exportSyncFile(k, buf, DMA_BUF_SYNC_READ)).status, 1);
  });

  test('realtime pacing follows sampling_frequency × scan size; fast mode does not wait', async () => {
    for (const timeMode of ['realtime', 'fast'] as const) {
      const k = new SimKernel({ timeMode }); // default scenario: adc4 at 1 MS/s, 4 × s16 + timestamp
      const sys = '/sys/bus/iio/devices/iio:device0';
      const dev = await k.open('/dev/iio:device0', O_RDWR);
      const bfd = getBufferFd(k, dev, 0);
      await setup(k, `${sys}/buffer0`, { in_voltage0_en: '1', in_voltage1_en: '1', in_voltage2_en: '1', in_voltage3_en: '1', in_timestamp_en: '1' });
      // Realtime: 50 ms of scans at 1 MS/s, which cannot complete sooner (the lower bound has 5 ms
      // for clock rounding; there is no upper bound but the poll's generous limit). Fast: 8 s of
      // scans at 125 kS/s, which completes long before the time it stands for.
      const realtime = timeMode === 'realtime';
      if (!realtime) await k.writeText(`${sys}/sampling_frequency`, '125000');
      const size = 16 * (realtime ? 50_000 : 1_000_000);
      const buf = await heapBuffer(k, size);
      attach(k, bfd, buf);
      await k.writeText(`${sys}/buffer0/enable`, '1');
      const start = performance.now();
      enqueue(k, bfd, buf, size);
      assert.equal(await pollFor(k, buf, POLLIN, realtime ? 10_000 : 7_000), POLLIN, `the ${timeMode} block completed`);
      const ms = performance.now() - start;
      if (realtime) assert.ok(ms >= 45, `realtime block took ${ms} ms`);
      k.close(bfd);
      k.close(dev);
    }
  });

  test('realtime capture keeps the converter\'s clock: scans taken while no block is queued are lost, the timestamps and the ramp show the gap; fast mode loses none', async () => {
    // A block reaches the DMA engine only once enqueued on the enabled buffer (kernel-abi §2.6),
    // and the kernel reports nothing about what a transfer held (§2.8): a gap shows in the data only.
    for (const timeMode of ['realtime', 'fast'] as const) {
      const k = new SimKernel({ timeMode }); // adc4 at 1 MS/s: voltage2 is a ramp of 16 per scan, 4000 scans long
      const sys = '/sys/bus/iio/devices/iio:device0';
      const dev = await k.open('/dev/iio:device0', O_RDWR);
      const bfd = getBufferFd(k, dev, 0);
      await setup(k, `${sys}/buffer0`, { in_voltage2_en: '1', in_timestamp_en: '1' }); // s16 at 0, s64 at 8: 16-byte scans
      const scans = 1024;
      const buf = await heapBuffer(k, 16 * scans);
      attach(k, bfd, buf);
      const capture = async (): Promise<{ ramp: number[]; ts: bigint[] }> => {
        assert.equal(await pollFor(k, buf, POLLIN, 10_000), POLLIN);
        dmabufSync(k, buf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
        const map = k.mmap(buf, 16 * scans, PROT_READ, MAP_SHARED);
        const view = new DataView(map.buffer, map.byteOffset, map.byteLength);
        const out = { ramp: [] as number[], ts: [] as bigint[] };
        for (let s = 0; s < scans; s++) {
          out.ramp.push(view.getInt16(16 * s, true));
          out.ts.push(view.getBigInt64(16 * s + 8, true));
        }
        k.munmap(map);
        dmabufSync(k, buf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
        return out;
      };
      enqueue(k, bfd, buf, 16 * scans); // queued before enable: the first block starts with the stream
      await k.writeText(`${sys}/buffer0/enable`, '1');
      const first = await capture();
      await sleep(20); // the application is late: 20 ms with no block queued (what causes the overrun)
      enqueue(k, bfd, buf, 16 * scans);
      const second = await capture();
      const lost = k.iio.device('iiojs-adc4').buffer(0).stats.lost;
      if (timeMode === 'realtime') assert.ok(lost >= 19_000, `${timeMode}: ${lost} scans lost in 20 ms at 1 MS/s`);
      else assert.equal(lost, 0, 'fast mode loses nothing');
      // Within a block the scans are 1 µs apart; across the gap, the lost scans' time is missing.
      for (const block of [first, second]) {
        for (let s = 1; s < scans; s++) assert.equal(block.ts[s]! - block.ts[s - 1]!, 1000n, `${timeMode}: timestamp step at scan ${s}`);
      }
      assert.equal(second.ts[0]! - first.ts[scans - 1]!, 1000n * BigInt(lost + 1), `${timeMode}: the timestamps jump by the lost scans`);
      const rampIndex = (v: number): number => (v + 32000) / 16;
      assert.equal(rampIndex(second.ramp[0]!), (rampIndex(first.ramp[scans - 1]!) + lost + 1) % 4000, `${timeMode}: the ramp's phase moved on by the lost scans`);
      k.close(bfd);
      k.close(dev);
    }
  });

  test('playback: the device receives what was enqueued, and the receiver hears it (loopback)', async () => {
    const k = new SimKernel(); // default scenario: the transceiver's RX iio:device3 and TX iio:device4
    const sys = '/sys/bus/iio/devices/iio:device4';
    const dev = await k.open('/dev/iio:device4', O_RDWR);
    const tx = getBufferFd(k, dev, 0);
    assert.equal(await k.readText(`${sys}/buffer0/direction`), 'out\n');
    await setup(k, `${sys}/buffer0`, { out_voltage0_i_en: '1', out_voltage0_q_en: '1' });
    const size = 4096;
    const buf = await heapBuffer(k, size);
    attach(k, tx, buf);
    dmabufSync(k, buf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
    const map = k.mmap(buf, size, PROT_READ | PROT_WRITE, MAP_SHARED);
    const samples = new Int16Array(map.buffer, map.byteOffset, size / 2);
    for (let i = 0; i < samples.length; i++) samples[i] = i % 2 === 0 ? i : -i;
    dmabufSync(k, buf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
    await k.writeText(`${sys}/buffer0/enable`, '1');
    enqueue(k, tx, buf, size);
    assert.equal(await pollFor(k, buf, POLLOUT, 1000), POLLOUT);
    const stats = k.iio.device('iiojs-trx-tx').buffer(0).stats;
    assert.equal(stats.bytes, size);
    assert.deepEqual(stats.last, map.slice());
    k.munmap(map);
    await k.writeText(`${sys}/buffer0/enable`, '0');

    // RX: channel i hears out_voltage0_i
    const rxSys = '/sys/bus/iio/devices/iio:device3';
    const rxDev = await k.open('/dev/iio:device3', O_RDWR);
    const rx = getBufferFd(k, rxDev, 0);
    await setup(k, `${rxSys}/buffer0`, { in_voltage0_i_en: '1', in_voltage0_q_en: '1' });
    const cap = await heapBuffer(k, size);
    attach(k, rx, cap);
    await k.writeText(`${rxSys}/buffer0/enable`, '1');
    enqueue(k, rx, cap, size);
    assert.equal(await pollFor(k, cap, POLLIN, 1000), POLLIN);
    dmabufSync(k, cap, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
    const got = k.mmap(cap, size, PROT_READ, MAP_SHARED);
    const heard = new Int16Array(got.buffer, got.byteOffset, 8);
    assert.deepEqual([...heard], [0, -1, 2, -3, 4, -5, 6, -7]);
    k.munmap(got);
  });

  test('file I/O playback: write() fills blocks the DMA consumes', async () => {
    const k = new SimKernel();
    const sys = '/sys/bus/iio/devices/iio:device4';
    const dev = await k.open('/dev/iio:device4', O_RDWR);
    const tx = getBufferFd(k, dev, 0);
    await setup(k, `${sys}/buffer0`, { out_voltage0_i_en: '1', out_voltage0_q_en: '1', length: '256' });
    await k.writeText(`${sys}/buffer0/enable`, '1');
    assert.equal(await k.readText(`${sys}/buffer0/data_available`), '1024\n'); // free space, bytes
    const data = new Uint8Array(2048).map((_, i) => i & 0xff);
    assert.equal(await k.write(tx, data), 2048);
    assert.equal(await k.write(tx, data), 2048); // blocks until a block was played
    assert.ok(k.iio.device('iiojs-trx-tx').buffer(0).stats.bytes >= 512);
  });
});

describe('removal', () => {
  test('a plain unplug: device fd ioctls ENODEV, sysfs and /dev gone, file I/O readers woken', async () => {
    const k = new SimKernel({ scenario: probeScenario });
    const dev = await k.open('/dev/iio:device0', O_RDWR);
    await setup(k, DUMMY, { 'trigger/current_trigger': 't0', 'buffer0/in_voltage0_en': '1', 'buffer0/length': '16', 'buffer0/watermark': '16', 'buffer0/enable': '1' });
    await k.writeText('/sys/bus/iio/devices/trigger0/sampling_frequency', '1');
    const reader = k.read(dev, new Uint8Array(64)).catch((e: { code: string }) => e.code);
    await sleep(10);
    k.iio.device('dummy0').unplug();
    assert.equal(await reader, 'ENODEV');
    assert.throws(() => k.ioctl(dev, IIO_GET_EVENT_FD_IOCTL, intArg(0)), { code: 'ENODEV' });
    await assert.rejects(k.stat(DUMMY), { code: 'ENOENT' });
    await assert.rejects(k.open('/dev/iio:device0', O_RDWR), { code: 'ENOENT' });
    assert.equal(await pollFor(k, dev, POLLIN, 0), 0);
    assert.equal(k.iio.device('dummy0').gone, true);
    k.close(dev);
  });
});

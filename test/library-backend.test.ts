// The Backend contract (src/backends/backend.ts) as the core uses it: the description is plain
// data that survives serialisation (a network backend receives it over a wire), and every
// operation reaches the backend with iiod-style names — device id, channel id and direction,
// short attribute names, buffer index. Checked with a backend that serves a JSON round trip of
// the local backend's description and records the calls it forwards.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AttrRef, Backend, ContextDescription, OpOptions, TriggerRef } from '../src/backends/backend.js';
import { LocalBackend } from '../src/backends/local/backend.js';
import { Context } from '../src/core/context.js';
import { SimKernel } from '../src/kernel/sim/index.js';

/** Forwards to a LocalBackend over the sim; describes through JSON; records each call. */
class RecordingBackend implements Backend {
  readonly uri = 'test:';
  readonly calls: unknown[] = [];
  readonly #inner = new LocalBackend(new SimKernel());
  constructor(private readonly edit: (d: ContextDescription) => void = () => undefined) {}

  async describe(options?: OpOptions): Promise<ContextDescription> {
    const d = JSON.parse(JSON.stringify(await this.#inner.describe(options))) as ContextDescription;
    this.edit(d);
    return d;
  }
  readAttr(ref: AttrRef, options?: OpOptions): Promise<string> {
    this.calls.push(['readAttr', ref]);
    return this.#inner.readAttr(ref, options);
  }
  writeAttr(ref: AttrRef, value: string, options?: OpOptions): Promise<void> {
    this.calls.push(['writeAttr', ref, value]);
    return this.#inner.writeAttr(ref, value, options);
  }
  getTrigger(device: string, options?: OpOptions): Promise<TriggerRef | null> {
    this.calls.push(['getTrigger', device]);
    return this.#inner.getTrigger(device, options);
  }
  setTrigger(device: string, trigger: string | null, options?: OpOptions): Promise<void> {
    this.calls.push(['setTrigger', device, trigger]);
    return this.#inner.setTrigger(device, trigger, options);
  }
  readRegister(device: string, address: number, options?: OpOptions): Promise<number> {
    this.calls.push(['readRegister', device, address]);
    return this.#inner.readRegister(device, address, options);
  }
  writeRegister(device: string, address: number, value: number, options?: OpOptions): Promise<void> {
    this.calls.push(['writeRegister', device, address, value]);
    return this.#inner.writeRegister(device, address, value, options);
  }
  setTimeout(ms: number): void {
    this.calls.push(['setTimeout', ms]);
  }
  get timeoutMs(): number {
    return this.#inner.timeoutMs;
  }
  async close(): Promise<void> {
    this.calls.push(['close']);
    await this.#inner.close();
  }
}

describe('the core over any Backend', () => {
  test('a serialised description builds the same context', async () => {
    const local = await Context.open(new LocalBackend(new SimKernel()));
    const backend = new RecordingBackend();
    const remote = await Context.open(backend);
    assert.equal(remote.toXml().replace('"test:"', '"sim:"'), local.toXml());
    assert.equal(remote.uri, 'test:');
    await local.close();
    await remote.close();
  });

  test('operations reach the backend by id, direction, short name and buffer index', async () => {
    const backend = new RecordingBackend();
    const ctx = await Context.open(backend);
    const trx = ctx.device('trx');
    await trx.channel('RX_LO', 'out').attr('frequency').read();
    await ctx.device('tx').buffer(0).attr('length').write(1024);
    await trx.attr('ensm_mode').write('fdd');
    await trx.debugAttr('direct_reg_access').read();
    await ctx.device('sensor').channel('temp').eventAttr('thresh_rising_en').read();
    await trx.registers.write(0x37, 5);
    await trx.registers.read(0x37);
    await ctx.device('sensor').setTrigger('sysfstrig0');
    await ctx.device('sensor').getTrigger();
    assert.equal(await ctx.attr('uri').read(), 'sim:');
    ctx.setTimeout(250);
    await ctx.close();
    assert.deepEqual(backend.calls, [
      ['readAttr', { kind: 'channel', device: 'iio:device1', channel: 'altvoltage0', output: true, name: 'frequency' }],
      ['writeAttr', { kind: 'buffer', device: 'iio:device4', buffer: 0, name: 'length' }, '1024'],
      ['writeAttr', { kind: 'device', device: 'iio:device1', name: 'ensm_mode' }, 'fdd'],
      ['readAttr', { kind: 'debug', device: 'iio:device1', name: 'direct_reg_access' }],
      ['readAttr', { kind: 'event', device: 'iio:device2', channel: { id: 'temp', output: false }, name: 'thresh_rising_en' }],
      ['writeRegister', 'iio:device1', 0x37, 5],
      ['readRegister', 'iio:device1', 0x37],
      ['setTrigger', 'iio:device2', 'trigger1'],
      ['getTrigger', 'iio:device2'],
      ['readAttr', { kind: 'context', name: 'uri' }],
      ['setTimeout', 250],
      ['close'],
    ]);
  });

  test('what a backend cannot tell (modes, trigger support) is left to the backend to decide', async () => {
    const backend = new RecordingBackend((d) => {
      for (const dev of d.devices) {
        delete dev.triggerSupport;
        for (const a of dev.attributes) {
          delete a.readable;
          delete a.writable;
        }
      }
    });
    const ctx = await Context.open(backend);
    const adc = ctx.device('adc4');
    assert.deepEqual([adc.triggerSupport, adc.attr('sampling_frequency_available').writable], [undefined, undefined]);
    // The local backend behind still knows: read-only and no trigger support.
    await assert.rejects(adc.attr('sampling_frequency_available').write('1'), { code: 'EACCES' });
    await assert.rejects(adc.setTrigger('iiojs-timer0'), { code: 'ERR_IIOJS_UNSUPPORTED' });
    await ctx.close();
  });

  test('a failed describe closes the backend', async () => {
    const backend = new RecordingBackend();
    backend.describe = async () => {
      throw new Error('no such host');
    };
    await assert.rejects(Context.open(backend), /no such host/);
    assert.deepEqual(backend.calls, [['close']]);
  });
});

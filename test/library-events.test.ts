// Device events through the library (kernel-abi §1.1): the event fd's iio_event_data records,
// decoded, from a threshold the simulated sensor crosses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openContext } from '../src/open.js';
import type { Scenario } from '../src/kernel/sim/scenario-types.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A temperature that swings through 24.0 °C ten times a second, with a rising threshold there.
const scenario: Scenario = {
  devices: [{
    name: 'thermo',
    samplingFrequency: 100,
    channels: [{ type: 'temp', scale: 10, waveform: { kind: 'sine', frequency: 10, amplitude: 150, offset: 2350 } }],
    events: [{ channel: 0, type: 'thresh', direction: 'rising', value: 2400, enabled: false }],
  }],
};

async function withContext(body: (ctx: Awaited<ReturnType<typeof openContext>>) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'iiojs-events-'));
  const file = join(dir, 'thermo.json');
  writeFileSync(file, JSON.stringify(scenario));
  const ctx = await openContext(`sim:${file}`);
  try {
    await body(ctx);
  } finally {
    await ctx.close();
    rmSync(dir, { recursive: true });
  }
}

test('an enabled rising threshold arrives as a decoded event, with a timestamp', async () => {
  await withContext(async (ctx) => {
    const device = ctx.device('thermo');
    await device.channel('temp').eventAttr('thresh_rising_en').write(true);
    const before = process.hrtime.bigint();
    for await (const event of device.events({ signal: AbortSignal.timeout(5000) })) {
      assert.equal(event.chanTypeName, 'IIO_TEMP');
      assert.equal(event.typeName, 'IIO_EV_TYPE_THRESH');
      assert.equal(event.directionName, 'IIO_EV_DIR_RISING');
      assert.equal(event.differential, false);
      assert.ok(event.timestamp > 0n);
      assert.ok(process.hrtime.bigint() >= before);
      break; // leaving the loop closes the event fd ...
    }
    // ... so a second reader may open it (the kernel allows one at a time)
    const again = device.events({ signal: AbortSignal.timeout(5000) });
    const { value } = await again.next();
    assert.equal(value?.directionName, 'IIO_EV_DIR_RISING');
    await again.return(undefined);
  });
});

test('a wait for events is cancellable and a disabled threshold stays silent', async () => {
  await withContext(async (ctx) => {
    const events = ctx.device('thermo').events({ signal: AbortSignal.timeout(300) });
    await assert.rejects(events.next(), { name: 'AbortError' });
  });
});

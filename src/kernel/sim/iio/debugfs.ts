// /sys/kernel/debug/iio/iio:deviceN/direct_reg_access (iio_debugfs_read_reg/write_reg): writing
// "addr" selects a register, "addr value" writes it (both parsed like sscanf "%i %i": decimal,
// 0x hex or 0 octal); reading prints the selected register as "0x%X\n". Decision: reading a
// register the scenario does not define is EINVAL (the driver's callback refuses it).
import { kerr } from '../errno.js';
import type { IioDevice } from './device.js';
import { scanInteger } from './kstrto.js';

export function installDebugfs(device: IioDevice, initial: Record<string, number>): void {
  const registers = new Map<number, number>();
  for (const [address, value] of Object.entries(initial)) registers.set(Number(address) >>> 0, value >>> 0);
  let cached = 0;
  device.ctx.vfs.attr(`/sys/kernel/debug/iio/${device.devName}/direct_reg_access`, {
    mode: 0o644,
    show: () => {
      const value = registers.get(cached);
      if (value === undefined) throw kerr('EINVAL', `no register 0x${cached.toString(16)}`);
      return `0x${value.toString(16).toUpperCase()}\n`;
    },
    store: (text) => {
      const address = scanInteger(text);
      if (address === undefined) throw kerr('EINVAL');
      cached = address.value;
      const value = scanInteger(address.rest);
      if (value !== undefined) registers.set(address.value, value.value);
    },
  });
}

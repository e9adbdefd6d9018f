// `iio reg`: read or write a device register through debugfs direct_reg_access (libiio's iio_reg).
import { CONTEXT_HELP, CONTEXT_OPTIONS, openFromArgs, operands, parseCommand, u32Arg } from './args.js';
import type { CliEnv } from './env.js';

export const regHelp = `Usage: iio reg [options] <device> <address> [<value>]

Reads a 32-bit register of a device and prints it in hex (0x...), or writes <value> to it.
Addresses and values are decimal or 0x hex. Needs the device's debugfs direct_reg_access
(usually root).

Options:
${CONTEXT_HELP}

Examples:
  iio reg -u sim: trx 0x37
  iio reg -u sim: trx 0x37 0x1f
`;

export async function reg(args: string[], env: CliEnv): Promise<number> {
  const { values, positionals } = parseCommand(args, CONTEXT_OPTIONS);
  const [deviceKey, addressText, valueText] = operands(positionals, 2, 3, '<device> and <address>') as [string, string, string?];
  const address = u32Arg(addressText, '<address>');
  const value = valueText === undefined ? undefined : u32Arg(valueText, '<value>');
  await using ctx = await openFromArgs(values, env);
  const device = ctx.device(deviceKey);
  if (value === undefined) env.stdout.write(`0x${(await device.registers.read(address)).toString(16)}\n`);
  else await device.registers.write(address, value);
  return 0;
}

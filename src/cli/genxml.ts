// `iio genxml`: the context as libiio's XML (libiio's iio_genxml), for libiio's xml: backend
// and emulators.
import { CONTEXT_HELP, CONTEXT_OPTIONS, openFromArgs, operands, parseCommand } from './args.js';
import type { CliEnv } from './env.js';

export const genxmlHelp = `Usage: iio genxml [options]

Prints the context as libiio's XML (with its DTD), the description libiio clients get from
iiod. With -e, every readable attribute's current value is included (libiio's
IIO_CTX_XML_INCLUDE_VALUES, what an emulator replays). Unlike libiio's iio_genxml, only the XML
is printed, so it can be piped or saved as is.

Options:
${CONTEXT_HELP}
  -e, --values            include the attributes' values

Examples:
  iio genxml -u sim: > sim.xml && iio_info -u xml:sim.xml
  iio genxml -e | xmllint --format -
`;

export async function genxml(args: string[], env: CliEnv): Promise<number> {
  const { values, positionals } = parseCommand(args, { ...CONTEXT_OPTIONS, values: { type: 'boolean', short: 'e' } });
  operands(positionals, 0, 0, '');
  await using ctx = await openFromArgs(values, env);
  env.stdout.write(`${values.values ? await ctx.toXmlWithValues() : ctx.toXml()}\n`);
  return 0;
}

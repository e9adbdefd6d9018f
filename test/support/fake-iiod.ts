// A raw iiod peer for the ip: client's tests: it answers PRINT and TIMEOUT itself and every
// other command line as the test scripts it, however wrong (iiod-protocol.md §4a).
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** The default context (adc, iio:device0; trigger0, t0). A minimal context: voltage1 listed before voltage0 (the client sorts by scan index), a non-scan channel, a trigger. */
const FAKE_XML = '<?xml version="1.0" encoding="utf-8"?><context name="local" version-major="0" version-minor="24" version-git="fake000" description="fake">' +
  '<context-attribute name="hw" value="a &lt;b&gt;" />' +
  '<device id="iio:device0" name="adc">' +
  '<channel id="voltage1" type="input"><scan-element index="1" format="le:u16/16&gt;&gt;0" /><attribute name="raw" filename="in_voltage1_raw" /></channel>' +
  '<channel id="temp" type="input"><attribute name="input" filename="in_temp_input" /></channel>' +
  '<channel id="voltage0" type="input"><scan-element index="0" format="le:S16/16&gt;&gt;0" scale="0.5" /></channel>' +
  '<attribute name="sampling_frequency" /><debug-attribute name="direct_reg_access" /><buffer-attribute name="length" />' +
  '</device><device id="trigger0" name="t0" /></context>';

export type Reply = string | Uint8Array | 'close' | 'hang' | ((socket: Socket) => void);

export interface Fake {
  uri: string;
  /** Every command line received, per connection. */
  lines: string[][];
  /** Raw bytes that followed WRITE/WRITEBUF lines. */
  payloads: Buffer[];
  [Symbol.asyncDispose](): Promise<void>;
}

/** A peer that answers PRINT and TIMEOUT itself and every other line with `reply(line, connection)`. */
export async function fakeIiod(reply: (line: string, connection: number) => Reply | undefined, xml = FAKE_XML): Promise<Fake> {
  const lines: string[][] = [];
  const payloads: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const connection = lines.length;
    lines.push([]);
    let pending = Buffer.alloc(0);
    let payloadLeft = 0;
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (payloadLeft > 0) {
          const n = Math.min(payloadLeft, pending.length);
          payloads.push(pending.subarray(0, n));
          pending = pending.subarray(n);
          payloadLeft -= n;
          if (payloadLeft > 0) return;
        }
        const at = pending.indexOf(10);
        if (at < 0) return;
        const line = pending.toString('latin1', 0, at).replace(/\r$/, '');
        pending = pending.subarray(at + 1);
        if (line === '') continue;
        lines[connection]!.push(line);
        const write = /^(WRITE|WRITEBUF) .* (\d+)$/.exec(line);
        if (write !== null && write[1] === 'WRITE') payloadLeft = Number(write[2]);
        let answer: Reply | undefined = reply(line, connection);
        if (answer === undefined) {
          if (line === 'PRINT') answer = `${Buffer.byteLength(xml)}\n${xml}\n`;
          else if (line.startsWith('TIMEOUT')) answer = '0\n';
          else answer = '-22\n';
        }
        if (answer === 'close') socket.destroy();
        else if (typeof answer === 'function') answer(socket);
        else if (answer !== 'hang') socket.write(answer);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    uri: `ip:127.0.0.1:${port}`,
    lines,
    payloads,
    async [Symbol.asyncDispose]() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

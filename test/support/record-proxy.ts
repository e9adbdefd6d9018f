// A TCP proxy that records what a client and a server say to each other, chunk by chunk in the
// order they went, to make fixtures of a real peer's traffic (libiio v1's tools and iiod,
// test/fixtures/libiio-v1-*.json). Run: node dist/test/support/record-proxy.js <listen port>
// <server host:port> <out.json>; it writes the recording when the client disconnects, then exits.
import { writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';

export interface RecordedChunk {
  /** `c` the client sent it, `s` the server. */
  from: 'c' | 's';
  hex: string;
}

function main(argv: string[]): void {
  const [listenPort, target, out] = argv;
  if (listenPort === undefined || target === undefined || out === undefined) {
    process.stderr.write('usage: record-proxy <listen port> <host:port> <out.json>\n');
    process.exit(2);
  }
  const [host, port] = target.split(':');
  const chunks: RecordedChunk[] = [];
  const listener = createServer((client) => {
    listener.close();
    const server = connect(Number(port), host);
    client.on('data', (d: Buffer) => {
      chunks.push({ from: 'c', hex: d.toString('hex') });
      server.write(d);
    });
    server.on('data', (d: Buffer) => {
      chunks.push({ from: 's', hex: d.toString('hex') });
      client.write(d);
    });
    const finish = (): void => {
      writeFileSync(out, `${JSON.stringify(chunks, null, 1)}\n`);
      client.destroy();
      server.destroy();
    };
    client.on('close', finish);
    server.on('close', () => client.end());
    client.on('error', () => undefined);
    server.on('error', () => client.destroy());
  });
  listener.listen(Number(listenPort), '127.0.0.1', () => process.stdout.write(`listening ${listenPort}\n`));
}

main(process.argv.slice(2));

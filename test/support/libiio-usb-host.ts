// A host speaking libiio 0.24's USB transport to a gadget as its `usb:` backend does (usb.md
// §A2), through usbfs URBs (usb-host.ts) so the gadget can run in the same process: claim the
// interface, read its endpoint pairs from the configuration descriptor (the UDC picks the
// addresses), RESET_PIPES / OPEN_PIPE / CLOSE_PIPE by vendor requests, and on a pipe the text
// protocol with libiio's exact reads: a status line is one bulk IN of at most 1024 bytes (it
// relies on the gadget's short packet), a payload is read in transfers of exactly what is left
// (at most 1 MiB each).
import assert from 'node:assert/strict';
import { USB_DIR_IN, type UsbDescriptor } from '../../src/abi/usb.js';
import { IIOD_CLOSE_PIPE, IIOD_OPEN_PIPE, IIOD_REQUEST_TYPE, IIOD_RESET_PIPES, IIOD_USB_MAX_TRANSFER } from '../../src/iiod/usb.js';
import type { KernelPort } from '../../src/kernel/port.js';
import { UsbHost, URB_WAIT_MS, type UrbResult } from './usb-host.js';

/** libiio's read_line buffer (iiod_client_read_integer). */
const LINE_READ = 1024;

export class LibiioUsbHost {
  readonly host: UsbHost;
  /** The device's descriptors, as usbfs gave them at open. */
  readonly descriptors: readonly UsbDescriptor[];
  /** Pipe p's endpoint addresses, from the interface descriptor's IN/OUT pairs. */
  readonly endpoints: ReadonlyArray<{ in: number; out: number }>;

  private constructor(host: UsbHost, descriptors: UsbDescriptor[], endpoints: Array<{ in: number; out: number }>) {
    this.host = host;
    this.descriptors = descriptors;
    this.endpoints = endpoints;
  }

  /** Opens the usbfs node, claims interface 0, and checks its endpoints as usb_verify_eps does. */
  static async open(k: KernelPort, usbfs: string): Promise<LibiioUsbHost> {
    const host = await UsbHost.open(k, usbfs);
    try {
      const descriptors = await host.descriptors();
      const addresses = descriptors.flatMap((d) => (d.type === 'endpoint' ? [d.bEndpointAddress] : []));
      assert.ok(addresses.length >= 2 && addresses.length % 2 === 0, `an even number of endpoints, got ${addresses.length}`);
      const endpoints: Array<{ in: number; out: number }> = [];
      for (let i = 0; i < addresses.length; i += 2) {
        assert.ok((addresses[i]! & USB_DIR_IN) !== 0 && (addresses[i + 1]! & USB_DIR_IN) === 0, `IN then OUT at ${i}`);
        endpoints.push({ in: addresses[i]!, out: addresses[i + 1]! });
      }
      host.claim(0);
      return new LibiioUsbHost(host, descriptors, endpoints);
    } catch (e) {
      await host.close();
      throw e;
    }
  }

  /** A vendor request with no data stage; resolves with its URB status (0, or -EPIPE when stalled). */
  async vendor(bRequest: number, wValue = 0): Promise<number> {
    const r = await this.host.reap(this.host.control({ bRequestType: IIOD_REQUEST_TYPE, bRequest, wValue, wIndex: 0, wLength: 0 }));
    return r.status;
  }

  resetPipes(): Promise<number> {
    return this.vendor(IIOD_RESET_PIPES);
  }

  /** OPEN_PIPE p, which must be acknowledged; the pipe to talk on. */
  async openPipe(p: number): Promise<LibiioPipe> {
    assert.equal(await this.vendor(IIOD_OPEN_PIPE, p), 0, `OPEN_PIPE ${p}`);
    return new LibiioPipe(this.host, this.endpoints[p]!);
  }

  closePipe(p: number): Promise<number> {
    return this.vendor(IIOD_CLOSE_PIPE, p);
  }

  close(): Promise<void> {
    return this.host.close();
  }
}

export class LibiioPipe {
  constructor(readonly host: UsbHost, readonly endpoint: { in: number; out: number }) {}

  /** One bulk OUT transfer (a command line is sent with its `\r\n`, as libiio does). */
  async send(data: string | Uint8Array): Promise<UrbResult> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    const r = await this.host.reap(this.host.bulkOut(this.endpoint.out, bytes));
    assert.equal(r.status, 0, `bulk OUT of ${bytes.length} bytes`);
    return r;
  }

  /** A status line: one bulk IN of up to 1024 bytes, its text up to `\n`. */
  async line(ms = URB_WAIT_MS): Promise<string> {
    const r = await this.host.reap(this.host.bulkIn(this.endpoint.in, LINE_READ), ms);
    assert.equal(r.status, 0, 'bulk IN of a line');
    const text = Buffer.from(r.data).toString('latin1');
    assert.ok(text.endsWith('\n'), `a line ends with \\n (and its transfer there): ${JSON.stringify(text.slice(0, 80))}`);
    return text.slice(0, -1);
  }

  async integer(): Promise<number> {
    const text = await this.line();
    assert.match(text, /^-?\d+$/, `an integer line: ${JSON.stringify(text)}`);
    return Number(text);
  }

  /** Sends a command line and reads its status. */
  async command(text: string): Promise<number> {
    await this.send(`${text}\r\n`);
    return this.integer();
  }

  /** Exactly `n` bytes, in transfers of what is left (at most 1 MiB). */
  async exact(n: number): Promise<Buffer> {
    const out = Buffer.alloc(n);
    for (let done = 0; done < n;) {
      const r = await this.host.reap(this.host.bulkIn(this.endpoint.in, Math.min(n - done, IIOD_USB_MAX_TRANSFER)));
      assert.equal(r.status, 0, `bulk IN at ${done} of ${n}`);
      out.set(r.data, done);
      done += r.actual;
    }
    return out;
  }

  /** READ of one attribute: its length line, then exactly value+NUL and `\n`; the value or -errno. */
  async read(target: string): Promise<string | number> {
    const n = await this.command(`READ ${target}`);
    if (n < 0) return n;
    const value = await this.exact(n + 1);
    assert.equal(value[n], 0x0a);
    return value.toString('utf8', 0, n).replace(/\0$/, '');
  }

  /** PRINT: the context's XML. */
  async print(): Promise<string> {
    const n = await this.command('PRINT');
    assert.ok(n > 0, `PRINT answered ${n}`);
    return (await this.exact(n + 1)).toString('utf8', 0, n);
  }

  /** READBUF of `bytes`, as libiio reads it: counts, the mask once, data; the data (or -errno). */
  async readBuffer(device: string, bytes: number, maskWords: number): Promise<Buffer | number> {
    await this.send(`READBUF ${device} ${bytes}\r\n`);
    const parts: Buffer[] = [];
    let got = 0;
    let first = true;
    while (got < bytes) {
      const n = await this.integer();
      if (n < 0) return n;
      if (n === 0) break;
      if (first) {
        const mask = (await this.exact(maskWords * 8 + 1)).toString('latin1');
        assert.match(mask, /^[0-9a-f]+\n$/);
        first = false;
      }
      parts.push(await this.exact(n));
      got += n;
    }
    return Buffer.concat(parts);
  }

  /** WRITEBUF: the go-ahead, the samples in one transfer, then the count written. */
  async writeBuffer(device: string, data: Uint8Array): Promise<number> {
    const go = await this.command(`WRITEBUF ${device} ${data.length}`);
    if (go < 0) return go;
    for (let at = 0; at < data.length; at += IIOD_USB_MAX_TRANSFER) await this.send(data.subarray(at, at + IIOD_USB_MAX_TRANSFER));
    return this.integer();
  }
}

// What the server tells its operator: one line per event, through whatever the caller gives.
/** Where the server reports what happens. */
export interface ServerLog {
  /** Connections, buffer opens and closes (`iio serve -v`). */
  info(line: string): void;
  /** Every error answered to a client, with its reason; clients dropped and why. */
  error(line: string): void;
  /** What the operator should know without asking (`iio serve` prints it): the USB gadget, each buffer's data path and why. */
  notice?(line: string): void;
}

/** The default of `serve()`: a library prints nothing unless asked. */
export const SILENT_LOG: ServerLog = Object.freeze({ info: () => undefined, error: () => undefined });

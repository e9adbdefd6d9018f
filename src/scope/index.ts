// The browser scope: `scope(ctx)` serves any Context's devices to browsers (time plot, spectrum,
// XY, attributes, generator, recorder) over HTTP + WebSocket, as a client of the public API.
export { scope, MAX_UPLOAD_BYTES, type ScopeOptions, type ScopeServer } from './server.js';
export type { ViewConfig } from './protocol.js';

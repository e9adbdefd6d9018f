// The iiod server: libiio 0.2x clients (iio_info, iio_readdev, pyadi-iio, ...) over TCP.
export { IIOD_PORT, serve, type IiodServer, type ServeOptions, type ServerLog } from './server.js';
export { LIMITS as IIOD_LIMITS } from './session.js';

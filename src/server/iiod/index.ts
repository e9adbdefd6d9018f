// The iiod server: libiio 0.2x clients (iio_info, iio_readdev, pyadi-iio, ...) over TCP and USB.
export { IIOD_PORT, serve, type IiodServer, type ServeOptions, type ServerLog, type UsbServeOptions, type UsbServing } from './server.js';
export { DEFAULT_USB_IDS, type UsbTraffic } from './usb-server.js';
export { LIMITS as IIOD_LIMITS } from './session.js';

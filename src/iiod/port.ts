// libiio's IIOD_PORT: where iiod listens, and where `ip:host` connects when no port is given.
export const IIOD_PORT = 30431;

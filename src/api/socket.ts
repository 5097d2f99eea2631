// Where the control API's Unix socket is by default: a module of its own, so `kite run` can name it
// without loading gRPC (the daemon loads gRPC at the first client; see server.ts).
export const DEFAULT_SOCKET = '/run/kite/kite.sock';

import type { Socket } from 'node:net';

/** Every HTTP/2 connection opens with these 24 bytes (RFC 9113 §3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * Waits for a new connection's HTTP/2 client preface, reading it off the socket and putting it back, so
 * a client that connects and sends nothing (or something that is not HTTP/2) is known before any HTTP/2
 * state exists for it. Resolves false if the preface is not complete within `timeoutMs`, if the first
 * bytes are not the preface, or if the peer goes away; the caller destroys the socket.
 */
export function awaitHttp2Preface(socket: Socket, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let head = Buffer.alloc(0);
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('close', onClose);
      socket.off('error', onClose);
      if (ok) socket.unshift(head);
      resolve(ok);
    };
    const onClose = () => finish(false);
    const onReadable = () => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) {
        head = Buffer.concat([head, chunk]);
        const n = Math.min(head.length, PREFACE.length);
        if (!head.subarray(0, n).equals(PREFACE.subarray(0, n))) return finish(false);
        if (head.length >= PREFACE.length) return finish(true);
      }
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('readable', onReadable);
    socket.on('close', onClose);
    socket.on('error', onClose);
  });
}

// A proxy in front of a PondSocket server that passes plain HTTP (an SSE stream, its POSTs and DELETEs) and refuses
// every WebSocket upgrade, as some corporate proxies and load balancers do: for the `transport: 'auto'` tests.
//
//   const proxy = await startNoWebSocketProxy('http://127.0.0.1:P');   // -> { url: 'ws://127.0.0.1:Q/socket', close() }
import { createServer, request as forward } from 'node:http';

export async function startNoWebSocketProxy(target) {
  const upstream = new URL(target);
  const refused = { count: 0 };
  const server = createServer((incoming, outgoing) => {
    const headers = { ...incoming.headers, host: upstream.host };
    const relay = forward({ host: upstream.hostname, port: upstream.port, path: incoming.url, method: incoming.method,
      headers }, (answer) => {
      outgoing.writeHead(answer.statusCode, answer.headers);
      outgoing.flushHeaders();
      answer.pipe(outgoing);
    });
    relay.on('error', () => outgoing.destroy());
    outgoing.on('close', () => relay.destroy());
    incoming.pipe(relay);
  });
  server.on('upgrade', (_, socket) => {
    refused.count += 1;
    socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `ws://127.0.0.1:${server.address().port}/socket`,
    refused,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}

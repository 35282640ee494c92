// `using` with the package's handles (TypeScript 5.2+, lib esnext.disposable), and the options and signals of the
// tab-life issue, type-checked by scripts/test-node.sh.
import { PondClient, type Channel, type RequestOptions } from 'pondsocket-wasm';

export function scoped(): void {
  using client = new PondClient('ws://localhost/socket', { token: 't' }, {
    logger: (level, message, fields) => void [level.toUpperCase(), message, fields.channel],
    presenceKey: (presence) => String(presence.name),
  });
  using channel: Channel = client.createChannel('/chat/x');
  const controller = new AbortController();
  const options: RequestOptions = { timeoutMs: 1000, signal: controller.signal };
  void channel.sendForResponse('ping', {}, options);
  void channel.sendForResponse('ping', {}, 500);
  channel.onMessage(() => {}, { signal: controller.signal });
  client.onConnectionChange(() => {}, { signal: controller.signal });
  controller.abort();
}

// @ts-expect-error a logger's level is one of three
new PondClient('ws://x', {}, { logger: (level: 'error') => void level });

// A bundler user's code: the package imported by name, built by Vite, served as static files.
import { PondClient, ChannelState, ResponseTimeoutError } from 'pondsocket-wasm';

const output = document.getElementById('result');
const done = (result) => {
  output.textContent = JSON.stringify(result);
  document.body.dataset.result = output.textContent;
};

const client = new PondClient('/socket', { token: 'good' });
client.onError((error) => console.warn(error.name, error.message));
client.connect();
const channel = client.createChannel('/chat/vite', { name: 'vite' });
channel.onChannelStateChange(async (state) => {
  if (state !== ChannelState.JOINED) return;
  try {
    const echo = await channel.sendForResponse('echo', { bundled: true });
    const timedOut = await channel.sendForResponse('late', { delayMs: 500 }, 50).then(() => false, (e) => e instanceof ResponseTimeoutError);
    done({ state: client.getState(), channel: channel.channelState, echo, timedOut, presence: channel.presence.length });
  } catch (error) {
    done({ error: String(error) });
  }
});
channel.join();

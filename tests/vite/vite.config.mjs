// Two pages: the bundler user's app (index.html) and the upstream-style suite (upstream.html).
export default {
  build: {
    rollupOptions: { input: { main: 'index.html', upstream: 'upstream.html' } },
  },
};

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: '.',
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // End-to-end files start proxies and SIPp on fixed loopback ports ranges; keep files apart.
    fileParallelism: false,
  },
});

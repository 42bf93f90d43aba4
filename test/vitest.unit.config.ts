import { defineConfig } from 'vitest/config';

/**
 * `npm run test:unit`: the tests that need nothing but Node (no SIPp, redis-server or Kamailio):
 * the parser, the engine, the bindings on the embedded state, the transports on loopback.
 * `npm test` runs these and everything else.
 */
export default defineConfig({
  test: {
    root: '.',
    include: ['test/{sip,engine,kemi,pv,ops,state,transport,check,context,core,drachtio,media,testing,tm}/**/*.test.ts', 'test/*.test.ts'],
    // These start redis-server.
    exclude: ['test/kemi/ndb-redis.test.ts', 'test/state/store.test.ts'],
    environment: 'node',
    env: { KEMI_TEST_UNIT: '1' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

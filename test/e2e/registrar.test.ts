/** Issue 5 end to end on the embedded state: REGISTER with digest, then calls through lookup. */
import { afterEach, describe, it } from 'vitest';
import { registerAndCall, stopAll } from './registrar-flow.js';

afterEach(stopAll);

describe('registrar and auth on the embedded state', () => {
  it('REGISTER with digest auth, then calls to the registered user complete', async () => {
    await registerAndCall();
  }, 90_000);
});

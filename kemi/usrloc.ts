/**
 * usrloc: Kamailio's location storage, which has no KEMI exports (KSR.usrloc is nil there too).
 * Loading it is what a Kamailio config does before registrar; here the contacts live in the state
 * backend (src/state/usrloc.ts) and registrar reads usrloc's modparams (use_domain, ...).
 */
import { defineModule } from './types.js';

export default defineModule('usrloc', []);

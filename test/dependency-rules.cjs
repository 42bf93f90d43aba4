/**
 * The layers of kemi-proxy and what each may import (README, "Layout"). `npm test` runs
 * dependency-cruiser with these rules over src/ and kemi/: an import that breaks one, or a cycle,
 * fails the run. Type-only imports count: a layer may not even name a type of a layer above it.
 */
const layer = (name, from, allowed) => ({
  name: `layer-${name}`,
  comment: `${name} may import only: ${allowed.join(', ')}`,
  severity: 'error',
  from: { path: from },
  to: { path: '^(src|kemi)/', pathNot: [from, ...allowed] },
});

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'no import cycles', from: {}, to: { circular: true } },
    layer('sip', '^src/sip/', []),
    layer('lib', '^src/lib/', []),
    layer('transport', '^src/transport/', ['^src/sip/', '^src/lib/']),
    layer('state', '^src/state/', ['^src/lib/']),
    layer('context', '^src/context/', ['^src/sip/', '^src/transport/types\\.ts$', '^src/state/store\\.ts$', '^src/lib/']),
    layer('pv', '^src/pv/', ['^src/context/', '^src/sip/', '^src/transport/types\\.ts$', '^src/state/store\\.ts$', '^src/lib/']),
    layer('auth', '^src/auth/', ['^src/context/', '^src/sip/', '^src/state/', '^src/lib/']),
    layer('media', '^src/media/', ['^src/lib/']),
    layer('rr', '^src/rr/', ['^src/context/', '^src/sip/', '^src/transport/types\\.ts$', '^src/lib/']),
    layer('dialog', '^src/dialog/', ['^src/context/', '^src/sip/', '^src/state/store\\.ts$', '^src/lib/']),
    layer('tm', '^src/tm/', ['^src/context/', '^src/sip/', '^src/transport/', '^src/pv/', '^src/lib/']),
    layer('kemi', '^kemi/', ['^src/context/', '^src/sip/', '^src/transport/', '^src/pv/', '^src/rr/', '^src/tm/', '^src/state/', '^src/auth/', '^src/media/', '^src/dialog/', '^src/lib/']),
    layer('engine', '^src/engine/', ['^src/context/', '^src/lib/', '^kemi/types\\.ts$']),
    layer('core', '^src/core/', ['^src/context/', '^src/sip/', '^src/transport/', '^src/state/', '^src/pv/', '^src/rr/', '^src/tm/', '^src/engine/', '^src/lib/', '^kemi/types\\.ts$']),
    layer('drachtio', '^src/drachtio/', ['^src/core/', '^src/context/', '^src/sip/', '^src/transport/', '^src/tm/', '^src/pv/', '^src/rr/', '^src/state/', '^src/lib/']),
    layer('ops', '^src/ops/', ['^src/lib/', '^src/state/', '^src/transport/types\\.ts$', '^src/transport/settings\\.ts$', '^src/transport/literal-lookup\\.ts$']),
    layer('app', '^src/app/', ['^src/core/', '^src/drachtio/', '^kemi/drachtio\\.ts$', '^src/context/', '^src/state/', '^src/ops/', '^src/lib/', '^kemi/types\\.ts$', '^kemi/catalog\\.ts$']),
    layer('check', '^src/check/', ['^src/app/modules\\.ts$', '^src/ops/config\\.ts$', '^src/lib/', '^kemi/types\\.ts$', '^kemi/catalog\\.ts$']),
    // The offline test harness composes an instance as app does, and reads messages and PVs back.
    layer('testing', '^src/testing/', ['^src/app/', '^src/core/', '^src/context/', '^src/state/', '^src/ops/', '^src/lib/', '^src/sip/', '^src/pv/', '^src/tm/timer-queue\\.ts$', '^src/transport/types\\.ts$', '^src/transport/dns\\.ts$', '^kemi/types\\.ts$', '^kemi/catalog\\.ts$']),
    layer('cli', '^src/cli\\.ts$', ['^src/app/', '^src/ops/', '^src/check/', '^src/testing/', '^src/lib/']),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|node_modules|test|bench)/' },
  },
};

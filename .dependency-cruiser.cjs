// The layout's rules (README "Layout"), checked by `npm run check:rules` in `npm test`: one room per run
// context, the page talks to the worker only through the shared vocabulary, no import cycles.
/** Product code: not tests, not fixtures, not benches or specs. */
const TESTS = '\\.test\\.ts$|^worker/testing/|^e2e/';

/** A room whose product code may import, of the project, only itself and the rooms named in `allowed`. */
function roomImportsOnly(name, room, allowed, comment) {
  return {
    name,
    comment,
    severity: 'error',
    from: { path: `^${room}`, pathNot: TESTS },
    to: { path: '^(src|worker|e2e)/', pathNot: `^worker/(${allowed.join('|')})/` },
  };
}

module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycles',
      comment: 'Folders import each other in one direction only (STYLE.md: no folder cycles).',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-module-cycles',
      comment: 'Files never import each other in a loop.',
      severity: 'error',
      from: { pathNot: TESTS },
      to: { circular: true },
    },
    {
      name: 'page-imports-only-shared',
      comment: 'The page (src/) may import only the wire vocabulary in worker/shared/, never worker internals.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^worker/', pathNot: '^worker/shared/' },
    },
    {
      name: 'product-never-imports-tests',
      comment: 'Product code never imports tests, fixtures, specs or benches.',
      severity: 'error',
      from: { path: '^(src|worker)/', pathNot: TESTS },
      to: { path: TESTS },
    },
    roomImportsOnly(
      'service-worker-imports-only-shared',
      'worker/service-worker/(?!node/)',
      ['service-worker', 'shared'],
      'The Service Worker (not its Node build half, node/) is one small script: of the project it imports only ' +
        'worker/shared/, the wire vocabulary whose schemas it parses every message with.',
    ),
    {
      name: 'service-worker-no-packages',
      comment: 'Of npm packages, only zod (the shared schemas) ends up in the Service Worker; its types may come from anywhere.',
      severity: 'error',
      from: { path: '^worker/(service-worker/(?!node/)|shared/preview-protocol)', pathNot: TESTS },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown', 'core'], dependencyTypesNot: ['type-only'], pathNot: '(^|/)node_modules/zod/' },
    },
    roomImportsOnly(
      'shared-imports-only-shared',
      'worker/shared/',
      ['shared'],
      'The shared vocabulary depends on nothing of the project outside itself.',
    ),
    roomImportsOnly(
      'vm-worker-imports-only-shared',
      'worker/vm/',
      ['vm', 'shared'],
      'The VM worker runs in a Web Worker and in Node: of the other rooms it may import only worker/shared/.',
    ),
    roomImportsOnly(
      'proxy-imports-only-shared',
      'worker/proxy/',
      ['proxy', 'shared'],
      'The proxy and relay are deployed alone (Node, edge): they may import only worker/shared/.',
    ),
    {
      name: 'proxy-core-is-platform-neutral',
      comment: 'worker/proxy/*.ts and edge/ run on edge runtimes: no Node built-ins, nothing from proxy/node/.',
      severity: 'error',
      from: { path: '^worker/proxy/(?!node/)', pathNot: TESTS },
      to: { path: '^worker/proxy/node/|^node:|^(fs|net|http|https|dns|stream|crypto|os|path)$' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves.',
      severity: 'error',
      from: {},
      // vite/client is a `/// <reference types>` for Vite's import.meta types, not a module.
      to: { couldNotResolve: true, pathNot: '^vite/client$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Tests and specs may import anything; benches (e2e/bench/) and fixtures (worker/testing/) are cruised.
    exclude: { path: '^(dist|public/vm|vm-images/\\.cache)/|\\.(test|spec)\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.js', '.mjs', '.json'],
      exportsFields: ['exports'],
      conditionNames: ['import', 'types', 'node', 'default'],
    },
  },
};

// Preloaded into a server under test (server-process.ts, `gcOnSignal`): SIGUSR2 runs a full garbage collection and
// says so on stderr. V8 collects only under allocation pressure, so an idle server may keep up to ~64 MiB of dead
// ArrayBuffers indefinitely; a memory test that wants to see what is still held, not what is merely uncollected,
// asks for a collection first. Needs node --expose-gc.
const collect = (globalThis as { gc?: () => void }).gc;
if (!collect) throw new Error('gc-on-signal.ts needs node --expose-gc');
process.on('SIGUSR2', () => {
  collect();
  process.stderr.write('gc-on-signal: collected\n');
});

// First module a Process child runs, in a worker thread or in an OS child process, when it
// was started on it; a reserve worker, which has loaded _bootstrap.ts ahead of need, runs
// the same thing without importing this. The runner comes by a dynamic import, which
// readies the runtime's module loader (its first dynamic import costs Node about half a
// millisecond more than the next) before the target's module is imported.
const { run } = await import("./_bootstrap.ts");
await run();

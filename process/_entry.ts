// First module a Process child runs, in a worker thread or in an OS child process, when it
// was started on it; a reserve worker, which has loaded _bootstrap.ts ahead of need, runs
// the same thing without importing this.
import { run } from "./_bootstrap.ts";

await run();

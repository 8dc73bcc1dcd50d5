// A raw worker entry for adapter tests: echoes messages, and obeys "exit N" / "throw".
import { runtime } from "../../_runtime/mod.ts";

const port = runtime.parentPort()!;
port.post({ hello: runtime.workerData(), isMain: runtime.isMainThread, pollable: port.pollable });
port.onMessage((message) => {
  const m = message as { cmd: string; code?: number; bytes?: ArrayBuffer };
  if (m.cmd === "exit") runtime.exitThread(m.code ?? 0);
  if (m.cmd === "throw") throw new Error("thrown in worker");
  if (m.cmd === "bytes") port.post({ length: m.bytes!.byteLength }, [m.bytes!]);
  if (m.cmd === "block") Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  if (m.cmd === "poll") {
    // Stay in this handler, so the next message can only arrive through receive().
    const until = Date.now() + (port.pollable ? 10_000 : 0);
    let next: unknown;
    do next = port.receive(); while (next === undefined && Date.now() < until);
    port.post({ polled: next ?? null });
  }
});

/**
 * The `ipc` module: a {@linkcode Manager} whose dicts, lists, queues and locks every
 * thread, process or machine reaches through proxies, like Python's
 * `multiprocessing.managers`.
 *
 * @example Usage
 * ```ts
 * import { Manager } from "@mproc/multiprocessing/ipc";
 * import assert from "node:assert/strict";
 * await using manager = await Manager.start();
 * const d = await manager.dict<string, number>();
 * await d.set("x", 1);
 * assert.equal(await d.get("x"), 1);
 * ```
 *
 * @module
 */
export * from "./manager.ts";

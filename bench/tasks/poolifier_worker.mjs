// poolifier wants a ThreadWorker wrapping the task functions; `execute(data, name)` picks one.
import { ThreadWorker } from "poolifier";
import { fib, mapChunk, noop } from "./task.mjs";

export default new ThreadWorker({ noop, fib, mapChunk });

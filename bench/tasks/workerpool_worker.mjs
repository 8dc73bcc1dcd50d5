// workerpool wants its worker script to register the task functions by name.
import workerpool from "workerpool";
import { fib, mapChunk, noop } from "./task.mjs";

workerpool.worker({ noop, fib, mapChunk });

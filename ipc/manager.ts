import { entryBeside, runIfBundled } from "../_internal/bundled.ts";
import { recordToError } from "../_internal/error_record.ts";
import { nextChildPath } from "../_internal/identity.ts";
import { type Child, spawnChild } from "../_internal/worker_parent.ts";
import { randomBytes } from "../_runtime/crypto.ts";
import { InvalidStateError } from "../errors.ts";
import { type AnyFunction, isTaskRef, type TaskRef } from "../task.ts";
import { CLOSED, controlOf, createArea, ring, SERVER_IDENT, STATE } from "./_manager_channel.ts";
import { closeConnection, connectionFor, type ManagerAddress, openRemote, setRemoteOf } from "./_manager_client.ts";
import type { ServerMessage, ServerPayload } from "./_manager_entry.ts";
import type {
  ArrayProxy,
  AutoProxy,
  BarrierProxy,
  ConditionProxy,
  DictProxy,
  EventProxy,
  JoinableQueueProxy,
  ListProxy,
  LockProxy,
  NamespaceProxy,
  QueueProxy,
  SemaphoreProxy,
  ValueProxy,
} from "./_manager_proxies.ts";
import { ManagerServer, type TypeSpec } from "./_manager_server.ts";
import { serveTcp } from "./_manager_tcp.ts";

export {
  ArrayProxy,
  type AutoProxy,
  BarrierProxy,
  BaseProxy,
  ConditionProxy,
  DictProxy,
  EventProxy,
  JoinableQueueProxy,
  ListProxy,
  LockProxy,
  NamespaceProxy,
  type ProxyQueueOptions,
  type ProxyWaitOptions,
  QueueProxy,
  SemaphoreProxy,
  ValueProxy,
} from "./_manager_proxies.ts";

/** Options for {@linkcode BaseManager} and {@linkcode Manager}. */
export interface ManagerOptions {
  /**
   * Serve over TCP at this address as well, for other processes and machines
   * (`port: 0` picks a free port; read it back from {@linkcode BaseManager.address}).
   * Without it a started manager serves the threads of this program only.
   * @default {undefined}
   */
  address?: { host?: string; port?: number };
  /**
   * The key clients must prove they know (HMAC challenge both ways; the key never crosses
   * the wire). Required to listen beyond the loopback interface.
   * @default {32 random bytes}
   */
  authkey?: string | Uint8Array;
}

const ENTRY = entryBeside(import.meta.url, "manager", "_manager_entry");
await runIfBundled("_manager_entry", () => import("./_manager_entry.ts"));
const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);
const STOP_MS = 5_000;

type State = "initial" | "started" | "connected" | "serving" | "shut down";

function keyBytes(key: string | Uint8Array): Uint8Array {
  if (typeof key === "string") return new TextEncoder().encode(key);
  if (key instanceof Uint8Array) return key;
  throw new TypeError(`Cannot use the authkey: it must be a string or a Uint8Array, got ${typeof key}`);
}

function newUid(): string {
  return [...randomBytes(12)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** What {@linkcode BaseManager.stats} reports. */
export interface ManagerStats {
  /** Objects some proxy refers to (or a proxy on its way to another thread or process). */
  objects: number;
  /** References those proxies hold, over every thread, process and machine. */
  references: number;
}

/**
 * A server holding shared objects that every thread, process or machine reaches through
 * proxies, like Python's `multiprocessing.managers.BaseManager`. Register your own types
 * with {@linkcode BaseManager.register}; {@linkcode Manager} adds dict, list, queues and locks.
 *
 * - `await manager.start()` runs the server in a worker thread; with an `address` it also
 *   listens on TCP.
 * - `await manager.connect()` reaches a manager another process started at `address`.
 * - `await manager.serveForever()` serves TCP clients from this thread until `shutdown()`.
 *
 * Threads reach a started manager through its SharedArrayBuffer (every proxy method has a
 * blocking `Sync` twin); other processes through TCP (async methods only: a thread cannot
 * block on a socket, so a remote proxy's `Sync` twins throw a TypeError).
 *
 * @example Usage
 * ```ts
 * import { BaseManager } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const server = new BaseManager({ address: { port: 0 }, authkey: "secret" });
 * await server.start();
 * const client = new BaseManager({ address: server.address!, authkey: "secret" });
 * await client.connect();
 * const d = await client.create("dict");
 * assert.equal(d.typeid, "dict");
 * await client.shutdown();
 * await server.shutdown();
 * ```
 */
export class BaseManager {
  readonly #types = new Map<string, TypeSpec>();
  readonly #host: string | null;
  #port: number;
  readonly #authkey: Uint8Array;
  #state: State = "initial";
  #child: Child | null = null;
  #address: ManagerAddress | null = null;
  #serving: { server: ManagerServer; stop(): Promise<void>; done: Promise<void> } | null = null;

  /**
   * Describe a manager; nothing runs until `start()`, `connect()` or `serveForever()`.
   *
   * @param options `address` and `authkey`
   * @throws {TypeError} when the authkey is neither a string nor bytes
   * @throws {RangeError} when the port is not an integer in 0..65535
   */
  constructor(options: ManagerOptions = {}) {
    const { address, authkey } = options;
    this.#host = address === undefined ? null : address.host ?? "127.0.0.1";
    this.#port = address?.port ?? 0;
    if (!Number.isInteger(this.#port) || this.#port < 0 || this.#port > 65535) {
      throw new RangeError(`Cannot make a manager: the port must be an integer in 0..65535, got ${this.#port}`);
    }
    if (this.#host !== null && !LOOPBACK.has(this.#host) && authkey === undefined) {
      throw new TypeError(
        `Cannot make a manager on ${this.#host}: serving beyond the loopback interface needs an authkey`,
      );
    }
    this.#authkey = authkey === undefined ? randomBytes(32) : keyBytes(authkey);
  }

  /**
   * Serve objects of type `typeid`, made by calling `callable` in the server, as Python's
   * `register`. The callable is an exported function (or class) named by a task reference;
   * it may return the same object every time to share one. A returned Map is served as a
   * dict and an array as a list; any other object with its public methods. Register on
   * the serving side with the callable, and on the connecting side with the typeid alone.
   *
   * @param typeid the type's name, also a method of this manager that makes one
   * @param callable what makes an object, run in the server
   * @throws {InvalidStateError} after the manager has started
   * @throws {TypeError} when the callable is not a task reference
   */
  register<F extends AnyFunction>(typeid: string, callable?: TaskRef<F>): void {
    if (this.#state !== "initial") {
      throw new InvalidStateError(`Cannot register "${typeid}": the manager was already started or connected`);
    }
    if (typeof typeid !== "string" || typeid === "") {
      throw new TypeError("Cannot register a type: typeid must be a name");
    }
    if (callable !== undefined) {
      if (!isTaskRef(callable)) {
        throw new TypeError(`Cannot register "${typeid}": the callable must be a task reference (taskModule(...).fn)`);
      }
      this.#types.set(typeid, { module: callable.module, name: callable.name });
    }
    if (!(typeid in this)) {
      Object.defineProperty(this, typeid, {
        value: (...args: unknown[]) => this.create(typeid, ...args),
        configurable: true,
      });
    }
  }

  /** The TCP address served or connected to (the real port once started), or null. */
  get address(): { host: string; port: number } | null {
    return this.#host === null ? null : { host: this.#host, port: this.#port };
  }

  /** The authentication key. */
  get authkey(): Uint8Array {
    return this.#authkey;
  }

  /**
   * Start the server in a worker thread (and on TCP when an address was given).
   *
   * @throws {InvalidStateError} when already started or connected
   * @throws {Error} when the address cannot be bound
   */
  async start(): Promise<this> {
    this.#claim("start");
    const area = createArea();
    const uid = newUid();
    const tcp = this.#host === null ? null : { host: this.#host, port: this.#port, authkey: this.#authkey };
    const payload: ServerPayload = { area, uid, types: [...this.#types], tcp };
    const path = nextChildPath();
    const child = spawnChild({ entry: ENTRY, payload, name: `SyncManager-${path.join(":")}`, path, daemon: true });
    Atomics.store(controlOf(area), SERVER_IDENT, child.ident);
    this.#child = child;
    // The server thread is a daemon, so that a program that forgets shutdown() still
    // ends; while we wait for it, it must keep the program alive.
    child.handle.ref();
    const ready = await new Promise<ServerMessage | null>((resolve) => {
      child.handle.onMessage((m) => resolve(m as ServerMessage));
      void child.exited.then(() => resolve(null));
    });
    child.handle.unref();
    if (ready === null || ready.t === "error") {
      this.#state = "shut down";
      throw ready === null
        ? new InvalidStateError(`Cannot start the manager: its server thread ended with code ${child.exitCode}`)
        : recordToError(ready.error);
    }
    if (ready.port !== null) this.#port = ready.port;
    this.#address = { uid, area };
    if (this.#host !== null) setRemoteOf(uid, { host: this.#host, port: this.#port, authkey: this.#authkey });
    return this;
  }

  /**
   * Connect to a manager another process serves at this manager's `address`.
   *
   * @throws {AuthenticationError} when the authkey is refused
   * @throws {InvalidStateError} when already started or connected, or no address was given
   */
  async connect(): Promise<this> {
    if (this.#host === null) {
      throw new InvalidStateError("Cannot connect to a manager: no address was given (new BaseManager({ address }))");
    }
    this.#claim("connect");
    const address: ManagerAddress = {
      uid: "",
      remote: { host: this.#host, port: this.#port, authkey: this.#authkey },
    };
    try {
      const connection = await openRemote(address);
      address.uid = await connection.call(0, "ping", []) as string;
    } catch (error) {
      this.#state = "initial";
      closeConnection(address);
      throw error;
    }
    this.#address = address;
    return this;
  }

  /**
   * Serve TCP clients from this thread until {@linkcode BaseManager.shutdown} is called.
   * The real port is in {@linkcode BaseManager.address} once listening.
   *
   * @throws {InvalidStateError} when already started, or no address was given
   */
  async serveForever(): Promise<void> {
    if (this.#host === null) {
      throw new InvalidStateError(
        "Cannot serve a manager forever: no address was given (new BaseManager({ address }))",
      );
    }
    this.#claim("serve");
    const server = new ManagerServer(newUid(), this.#types);
    const listener = await serveTcp(server, { host: this.#host, port: this.#port, authkey: this.#authkey });
    this.#port = listener.port;
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    this.#serving = {
      server,
      done,
      stop: async () => {
        server.close();
        await listener.close();
        finish();
      },
    };
    await done;
  }

  /**
   * Stop the server (or, for a connected manager, close this thread's connection).
   * A proxy used afterwards fails at once with an {@linkcode InvalidStateError}.
   */
  async shutdown(): Promise<void> {
    const state = this.#state;
    this.#state = "shut down";
    if (state === "started") {
      const area = this.#address!.area!;
      setRemoteOf(this.#address!.uid, null);
      const control = controlOf(area);
      Atomics.store(control, STATE, CLOSED);
      ring(control);
      closeConnection(this.#address!);
      if (this.#host !== null) {
        closeConnection({ uid: "", remote: { host: this.#host, port: this.#port, authkey: this.#authkey } });
      }
      const child = this.#child!;
      child.handle.ref();
      const timer = setTimeout(() => void child.stop(-15), STOP_MS);
      await child.exited;
      clearTimeout(timer);
    } else if (state === "connected") closeConnection(this.#address!);
    else if (state === "serving") await this.#serving!.stop();
  }

  /** Shut the manager down: the `await using` form. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  /**
   * Make an object of a built-in or registered type in the server and return its proxy.
   *
   * @typeParam T the served object's type, for a registered type
   * @param typeid a registered typeid, or a built-in one (`"dict"`, `"Queue"`...)
   * @param args passed to the type's callable
   * @throws {InvalidStateError} before start/connect or after shutdown
   * @throws {TypeError} when the manager has no such type
   */
  create<T = unknown>(typeid: string, ...args: unknown[]): Promise<AutoProxy<T>> {
    if (this.#address === null || this.#state === "shut down") {
      return Promise.reject(
        new InvalidStateError(
          `Cannot make a "${typeid}": the manager ${
            this.#state === "shut down" ? "was shut down" : "is not started or connected"
          }`,
        ),
      );
    }
    try {
      return connectionFor(this.#address).call(0, "create", [typeid, args]) as Promise<AutoProxy<T>>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * How many objects the manager holds for proxies, and how many references those
   * proxies hold. Each proxy holds one until it is disposed or collected (or its thread
   * or connection ends); an object leaves the manager when its last one goes.
   *
   * @throws {InvalidStateError} before start/connect or after shutdown
   * @example Usage
   * ```ts
   * import { Manager } from "@mproc/multiprocessing";
   * import assert from "node:assert/strict";
   * await using manager = await Manager.start();
   * const d = await manager.dict();
   * assert.deepEqual(await manager.stats(), { objects: 1, references: 1 });
   * d[Symbol.dispose]();
   * assert.deepEqual(await manager.stats(), { objects: 0, references: 0 });
   * ```
   */
  async stats(): Promise<ManagerStats> {
    if (this.#serving !== null && this.#state === "serving") return this.#serving.server.stats();
    if (this.#address === null || this.#state === "shut down") {
      throw new InvalidStateError(
        `Cannot read a manager's stats: it ${
          this.#state === "shut down" ? "was shut down" : "is not started or connected"
        }`,
      );
    }
    return await connectionFor(this.#address).call(0, "stats", []) as ManagerStats;
  }

  /** A short description, like Python's repr. */
  toString(): string {
    return `<${this.constructor.name} state=${this.#state}${
      this.#host === null ? "" : ` address=${this.#host}:${this.#port}`
    }>`;
  }

  #claim(what: string): void {
    if (this.#state !== "initial") {
      throw new InvalidStateError(`Cannot ${what} the manager: it is ${this.#state}`);
    }
    this.#state = what === "start" ? "started" : what === "connect" ? "connected" : "serving";
  }
}

/**
 * Python's `multiprocessing.Manager()` (a `SyncManager`): a {@linkcode BaseManager} that
 * serves dicts, lists, namespaces, values, arrays, queues and every lock type.
 * Proxies pass to workers in `args`, nested too (a dict of lists), and an error raised in
 * the manager reaches the caller with its class and message.
 *
 * @example Usage
 * ```ts
 * import { Manager } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * await using manager = await Manager.start();
 * const d = await manager.dict<string, number>({ a: 1 });
 * await d.set("b", 2);
 * assert.deepEqual(await d.items(), [["a", 1], ["b", 2]]);
 * const lock = await manager.Lock();
 * {
 *   await using _ = await lock.hold();
 *   assert.equal(await lock.locked(), true);
 * }
 * ```
 */
export class Manager extends BaseManager {
  /**
   * Make and start a manager: `await using manager = await Manager.start()`.
   *
   * @param options `address` and `authkey`, to serve other processes too
   */
  static async start(options?: ManagerOptions): Promise<Manager> {
    return await new Manager(options).start();
  }

  /** A managed dict, filled from a Map, a plain object or `[key, value]` pairs. */
  dict<K = string, V = unknown>(init?: Map<K, V> | Record<string, V> | [K, V][]): Promise<DictProxy<K, V>> {
    return this.#make("dict", init === undefined ? [] : [init]);
  }
  /** A managed list. */
  list<T = unknown>(values?: T[]): Promise<ListProxy<T>> {
    return this.#make("list", values === undefined ? [] : [values]);
  }
  /** A managed Namespace, with initial attributes. */
  Namespace(init?: Record<string, unknown>): Promise<NamespaceProxy> {
    return this.#make("Namespace", init === undefined ? [] : [init]);
  }
  /** A managed Value (typecode kept, value not coerced, as in Python). */
  Value<T = unknown>(typecode: string, value: T): Promise<ValueProxy<T>> {
    return this.#make("Value", [typecode, value]);
  }
  /** A managed Array of one numeric typecode, from values or a length. */
  Array<T extends number | bigint = number>(typecode: string, values: NoInfer<T>[] | number): Promise<ArrayProxy<T>> {
    return this.#make("Array", [typecode, values]);
  }
  /** A managed queue; `maxsize` 0 is unbounded. */
  Queue<T = unknown>(options: { maxsize?: number } = {}): Promise<QueueProxy<T>> {
    return this.#make("Queue", [options.maxsize ?? 0]);
  }
  /** A managed joinable queue. */
  JoinableQueue<T = unknown>(options: { maxsize?: number } = {}): Promise<JoinableQueueProxy<T>> {
    return this.#make("JoinableQueue", [options.maxsize ?? 0]);
  }
  /** A managed Lock. */
  Lock(): Promise<LockProxy> {
    return this.#make("Lock", []);
  }
  /** A managed RLock, owned by the connection (one per thread) that took it. */
  RLock(): Promise<LockProxy> {
    return this.#make("RLock", []);
  }
  /** A managed Semaphore. */
  Semaphore(value = 1): Promise<SemaphoreProxy> {
    return this.#make("Semaphore", [value]);
  }
  /** A managed BoundedSemaphore. */
  BoundedSemaphore(value = 1): Promise<SemaphoreProxy> {
    return this.#make("BoundedSemaphore", [value]);
  }
  /** A managed Condition, over `lock` (a managed Lock or RLock) or a new RLock. */
  Condition(lock?: LockProxy): Promise<ConditionProxy> {
    return this.#make("Condition", lock === undefined ? [] : [lock]);
  }
  /** A managed Event. */
  Event(): Promise<EventProxy> {
    return this.#make("Event", []);
  }
  /** A managed Barrier for `parties` callers, with a default wait timeout (ms). */
  Barrier(parties: number, options: { timeout?: number } = {}): Promise<BarrierProxy> {
    return this.#make("Barrier", [parties, options.timeout]);
  }

  #make<P>(typeid: string, args: unknown[]): Promise<P> {
    return this.create(typeid, ...args) as Promise<P>;
  }
}

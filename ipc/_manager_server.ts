// The manager's server core: the table of served objects and one dispatch for every
// request, whatever transport brought it (Python's managers.Server). Transports hand it
// whole frames with the peer they came from, and it answers through the peer.
import { errorToRecord } from "../_internal/error_record.ts";
import { loadTask } from "../_internal/worker_child.ts";
import { InvalidStateError } from "../errors.ts";
import { Call, type Peer, PENDING, type Replier } from "./_manager_call.ts";
import {
  CANCEL,
  ERROR,
  MessageDecoder,
  MessageEncoder,
  NO_REPLY,
  OK,
  type ProxyToken,
  REQUEST,
} from "./_manager_codec.ts";
import {
  ArrayObject,
  AutoObject,
  BarrierObject,
  ConditionObject,
  DictObject,
  EventObject,
  JoinableQueueObject,
  ListObject,
  LockObject,
  NamespaceObject,
  onLoop,
  QueueObject,
  Ref,
  SemaphoreObject,
  Served,
  ValueObject,
} from "./_manager_objects.ts";

/** A user type: the exported function (or class) that makes its objects. */
export interface TypeSpec {
  module: string;
  name: string;
}

/** Error record of a call the client cancelled. */
export interface CancelledRecord {
  cancelled: true;
}

const BUILTIN: Record<string, (args: unknown[], server: ManagerServer) => Served> = {
  dict: ([init]) => DictObject.from(init),
  list: ([values]) => {
    if (values !== undefined && !Array.isArray(values)) {
      throw new TypeError("Cannot make a managed list: the initial values must be an array");
    }
    return new ListObject([...(values as unknown[] ?? [])]);
  },
  Namespace: ([init]) => {
    const ns = new NamespaceObject();
    if (init !== undefined && init !== null) {
      for (const [k, v] of Object.entries(init as object)) ns.attrs.set(k, v);
    }
    return ns;
  },
  Value: ([typecode, value]) => new ValueObject(String(typecode), value),
  Array: ([typecode, values]) => new ArrayObject(String(typecode), values),
  Queue: ([maxsize]) => new QueueObject(maxsize ?? 0),
  JoinableQueue: ([maxsize]) => new JoinableQueueObject(maxsize ?? 0),
  Lock: () => new LockObject(false),
  RLock: () => new LockObject(true),
  Semaphore: ([value]) => new SemaphoreObject(value ?? 1, false),
  BoundedSemaphore: ([value]) => new SemaphoreObject(value ?? 1, true),
  Condition: ([lock], server) => {
    if (lock === undefined || lock === null) return new ConditionObject(new LockObject(true));
    const target = lock instanceof Ref ? server.objectOf(lock.id) : undefined;
    if (!(target instanceof LockObject)) {
      throw new TypeError("Cannot make a managed Condition: its lock must be a Lock or RLock of the same manager");
    }
    return new ConditionObject(target);
  },
  Event: () => new EventObject(),
  Barrier: ([parties, timeout]) => new BarrierObject(parties, timeout),
};

const RELEASED = "every proxy of it was released (or collected), so the manager freed it";

function idArg(v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new TypeError(`Cannot change a reference count: ${String(v)} is not an object id`);
  }
  return v;
}

function loanArg(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}

/** The typeids every manager serves without registration. */
export const BUILTIN_TYPES: readonly string[] = Object.keys(BUILTIN);

/** Counts a manager's `stats()` reports. */
export interface ServerStats {
  /** Objects some proxy (or a proxy on its way to a thread or process) refers to. */
  objects: number;
  /** References those proxies hold, over all clients. */
  references: number;
}

/**
 * The object table and the dispatch of one manager.
 *
 * Objects are reference-counted as Python's manager counts them: every proxy a client
 * holds is one reference, taken when the server sends the client a token (the reply to
 * `create`, or a proxy inside a value) or when a proxy revived from another thread or
 * process says `incref`, and given back by `decref` (the proxy was released or collected)
 * or when the client disconnects. A proxy sent to another thread first lends a reference
 * that its revival takes over, so the sender may drop its own at once. At zero the object
 * leaves the table; one still stored in another object (a dict of lists) lives on there
 * and comes back when sent out again.
 */
export class ManagerServer implements Replier {
  readonly uid: string;
  readonly #types: Map<string, TypeSpec>;
  readonly #objects = new Map<number, Served>();
  readonly #counts = new Map<number, number>();
  readonly #holds = new Map<Peer, Map<number, number>>();
  readonly #loans = new Map<string, number>();
  // Revivals whose loan had not arrived yet: it comes later on the sender's connection.
  readonly #redeemed = new Set<string>();
  // Objects the reply being encoded hands out: held for its peer once it is sent.
  readonly #outgoing: Served[] = [];
  readonly #wrapped = new WeakMap<object, Served>();
  readonly #peers = new Set<Peer>();
  #nextId = 1;
  #closed = false;
  readonly #encoder: MessageEncoder;
  readonly #decoder: MessageDecoder;

  constructor(uid: string, types: Map<string, TypeSpec>) {
    this.uid = uid;
    this.#types = types;
    const hooks = {
      toToken: (o: object): ProxyToken | undefined => {
        const ref = o instanceof Ref ? o : o instanceof Served ? o.ref : null;
        if (ref === null) return undefined;
        this.#outgoing.push(ref.target);
        return { uid, typeid: ref.typeid, id: ref.id, methods: ref.methods };
      },
      fromToken: (t: ProxyToken): unknown => {
        if (t.uid !== uid) throw new TypeError("Cannot store a proxy of another manager in this one");
        const served = this.#objects.get(t.id);
        if (served?.ref == null) throw new RangeError(`Cannot find object ${t.id} in the manager: ${RELEASED}`);
        return served.ref;
      },
    };
    this.#encoder = new MessageEncoder(hooks);
    this.#decoder = new MessageDecoder(hooks);
  }

  /** The served object with id `id`. */
  objectOf(id: number): Served | undefined {
    return this.#objects.get(id);
  }

  /** A client connected. */
  addPeer(peer: Peer): void {
    this.#peers.add(peer);
  }

  /** A client is gone: drop its waiting calls, free the locks it held and give back its references. */
  dropPeer(peer: Peer): void {
    if (!this.#peers.delete(peer)) return;
    peer.closed = true;
    for (const call of [...peer.waiting.values()]) call.drop();
    for (const o of this.#objects.values()) {
      if (o instanceof LockObject && o.core.owner === peer) o.core.passOn();
    }
    const held = this.#holds.get(peer);
    this.#holds.delete(peer);
    if (held !== undefined) { for (const [id, n] of held) this.#unref(id, n); }
  }

  /** The counts `stats()` reports. */
  stats(): ServerStats {
    let references = 0;
    for (const n of this.#counts.values()) references += n;
    return { objects: this.#objects.size, references };
  }

  #hold(peer: Peer, served: Served): void {
    const id = served.ref!.id;
    this.#objects.set(id, served);
    this.#counts.set(id, (this.#counts.get(id) ?? 0) + 1);
    let held = this.#holds.get(peer);
    if (held === undefined) this.#holds.set(peer, held = new Map());
    held.set(id, (held.get(id) ?? 0) + 1);
  }

  #unref(id: number, n: number): void {
    const left = (this.#counts.get(id) ?? 0) - n;
    if (left > 0) {
      this.#counts.set(id, left);
      return;
    }
    this.#counts.delete(id);
    this.#objects.delete(id);
  }

  // A client gives back `n` of its own references: never more than it holds, so a
  // confused or hostile client cannot free what others use.
  #decref(peer: Peer, id: number, n: number): void {
    const held = this.#holds.get(peer);
    const mine = held?.get(id) ?? 0;
    const k = Math.min(mine, n);
    if (k <= 0) return;
    if (mine === k) held!.delete(id);
    else held!.set(id, mine - k);
    this.#unref(id, k);
  }

  #lend(id: number, loan: string): void {
    if (this.#redeemed.delete(loan)) return;
    if (!this.#objects.has(id)) return;
    this.#loans.set(loan, id);
    this.#counts.set(id, this.#counts.get(id)! + 1);
  }

  #incref(peer: Peer, id: number, loan: string | null): void {
    const served = this.#objects.get(id);
    if (served === undefined) return;
    this.#hold(peer, served);
    if (loan === null) return;
    if (this.#loans.get(loan) === id) {
      this.#loans.delete(loan);
      this.#unref(id, 1);
    } else this.#redeemed.add(loan);
  }

  /**
   * Serve one frame from `peer`.
   *
   * @throws {RangeError} when the frame is malformed: the transport closes that peer
   */
  handle(peer: Peer, frame: Uint8Array, length: number = frame.length): void {
    const m = this.#decoder.decode(frame, length);
    if (m.kind === CANCEL) {
      peer.waiting.get(m.id)?.cancel();
      return;
    }
    if (m.kind !== REQUEST) throw new RangeError("Cannot serve a manager message: it is not a request");
    const call = new Call(this, peer, m.id);
    if (this.#closed) return call.fail(new InvalidStateError(`Cannot call ${m.method}(): the manager was shut down`));
    try {
      const target = m.object === 0 ? undefined : this.#objects.get(m.object);
      const answer = m.object === 0 ? this.#root(call, m.method, m.args) : target?.dispatch(call, m.method, m.args);
      if (m.object !== 0 && target === undefined) {
        throw new InvalidStateError(`Cannot call ${m.method}(): object ${m.object} is not in the manager: ${RELEASED}`);
      }
      if (answer !== PENDING) call.reply(answer);
    } catch (error) {
      call.fail(error);
    }
  }

  /** Answer every waiting call with an error: the manager is shutting down. */
  close(): void {
    this.#closed = true;
    for (const peer of this.#peers) {
      for (const call of [...peer.waiting.values()]) {
        call.fail(new InvalidStateError("Cannot finish the call: the manager was shut down"));
      }
    }
  }

  ok(peer: Peer, id: number, value: unknown): void {
    if (peer.closed || id === NO_REPLY) return;
    const outgoing = this.#outgoing;
    if (outgoing.length !== 0) outgoing.length = 0;
    let length: number;
    try {
      length = this.#encoder.replyInto(OK, id, value);
      for (const served of outgoing) this.#hold(peer, served);
    } catch (error) {
      length = this.#encoder.replyInto(ERROR, id, errorToRecord(error));
    }
    if (outgoing.length !== 0) outgoing.length = 0;
    peer.send(this.#encoder.buffer, length);
  }

  error(peer: Peer, id: number, error: unknown, cancelled: boolean): void {
    if (peer.closed || id === NO_REPLY) return;
    const record = cancelled ? { cancelled: true } satisfies CancelledRecord : errorToRecord(error);
    const length = this.#encoder.replyInto(ERROR, id, record);
    peer.send(this.#encoder.buffer, length);
  }

  // The table takes the object once its token goes out with the reply.
  #add(served: Served): Served {
    const id = this.#nextId++;
    served.ref = new Ref(served.typeid, id, served instanceof AutoObject ? [...served.exposed()] : null, served);
    return served;
  }

  #root(call: Call, method: string, args: unknown[]): unknown {
    if (method === "ping") return this.uid;
    if (method === "decref") return this.#decref(call.peer, idArg(args[0]), idArg(args[1] ?? 1));
    if (method === "incref") return this.#incref(call.peer, idArg(args[0]), loanArg(args[1]));
    if (method === "lend") return this.#lend(idArg(args[0]), loanArg(args[1]) ?? "");
    if (method === "stats") return this.stats();
    if (method !== "create") throw new TypeError(`Cannot call ${method}() on the manager: it has no such method`);
    const [typeid, params = []] = args as [string, unknown[]];
    const make = BUILTIN[typeid];
    if (make !== undefined) return this.#add(make(params, this));
    const spec = this.#types.get(typeid);
    if (spec === undefined) {
      throw new TypeError(`Cannot make a "${typeid}": the manager has no such type; register it on the serving side`);
    }
    onLoop(loadTask(spec)).then(async (fn) => {
      const made = await (/^class[\s{]/.test(Function.prototype.toString.call(fn))
        ? new (fn as unknown as new(...a: unknown[]) => unknown)(...params)
        : fn(...params));
      call.reply(this.#wrap(typeid, made));
    }).catch((error) => call.fail(error));
    return call.keep(() => {});
  }

  #wrap(typeid: string, made: unknown): Served {
    if (made instanceof Served) return made.ref === null ? this.#add(made) : made;
    if (typeof made !== "object" || made === null) {
      throw new TypeError(`Cannot serve a "${typeid}": its callable returned a ${typeof made}, not an object`);
    }
    const known = this.#wrapped.get(made);
    if (known !== undefined) return known;
    const served = made instanceof Map
      ? new DictObject(made)
      : Array.isArray(made)
      ? new ListObject(made)
      : new AutoObject(typeid, made);
    this.#wrapped.set(made, served);
    return this.#add(served);
  }
}

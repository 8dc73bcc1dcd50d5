// Arguments made ready to post. Most jobs carry only primitives, so those skip the
// shareable walk entirely: per-job overhead decides small-task throughput.
import { encode, type Encoded } from "../_internal/shareable.ts";

function isPrimitive(value: unknown): boolean {
  return value === null || (typeof value !== "object" && typeof value !== "function" && typeof value !== "symbol");
}

/** Encode an argument list; `root` names it in errors (`args`). */
export function encodeArgs(args: readonly unknown[], root: string): Encoded {
  for (let i = 0; i < args.length; i++) if (!isPrimitive(args[i])) return encode(args, root);
  return { value: args };
}

/**
 * Encode `items` as one array, each named `${root}[start + j]` in errors, with the
 * shared-object paths of each item moved under its index.
 */
export function encodeChunk(items: readonly unknown[], start: number, root: string): Encoded {
  let copy: unknown[] | undefined;
  let refs: NonNullable<Encoded["refs"]> | undefined;
  for (let j = 0; j < items.length; j++) {
    const item = items[j];
    if (isPrimitive(item)) continue;
    const one = encode(item, `${root}[${start + j}]`);
    if (one.value !== item) (copy ??= items.slice())[j] = one.value;
    if (one.refs !== undefined) {
      refs ??= [];
      for (const ref of one.refs) refs.push({ path: [j, ...ref.path], shared: ref.shared });
    }
  }
  const value = copy ?? items;
  return refs === undefined ? { value } : { value, refs };
}

/**
 * Encode `item`, the one argument of a map job with chunksize 1 (see ONE in _protocol.ts);
 * `index` is its input number, for errors (the name is built only when one is needed:
 * this runs for every item).
 */
export function encodeMapArg(item: unknown, index: number): Encoded {
  return isPrimitive(item) ? { value: item } : encode(item, `iterable[${index}]`);
}

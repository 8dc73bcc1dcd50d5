// Chunk sizes and splitting for map-style calls.

/**
 * Python's default for a sized input: about four chunks per worker, so a slow chunk late
 * in the run leaves little work stranded on one worker.
 */
export function defaultChunksize(length: number, processes: number): number {
  if (length === 0) return 1;
  return Math.ceil(length / (processes * 4));
}

/** Split `items` into arrays of at most `size` items. */
export function splitChunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

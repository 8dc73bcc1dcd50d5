// The children this thread started and has not yet seen end, like Python's `_children`.

/** What the children table needs of a process. */
export interface ChildProcess {
  readonly daemon: boolean;
  isAlive(): boolean;
  join(): Promise<void>;
  terminate(): void;
}

const live = new Set<ChildProcess>();

/** Remember a started child. */
export function addChild(child: ChildProcess): void {
  live.add(child);
}

/** Forget a child that has ended. */
export function removeChild(child: ChildProcess): void {
  live.delete(child);
}

/** The children still running. */
export function liveChildren(): ChildProcess[] {
  for (const child of live) if (!child.isAlive()) live.delete(child);
  return [...live];
}

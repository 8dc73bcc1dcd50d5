// What a Process worker and its parent exchange.
import type { ErrorRecord } from "../_internal/error_record.ts";
import type { Encoded } from "../_internal/shareable.ts";

/** What the process entry receives. */
export interface ProcessPayload {
  target: { module: string; name: string };
  args: Encoded;
}

/** Message the process entry sends its parent. */
export type ProcessMessage = { t: "error"; error: ErrorRecord };

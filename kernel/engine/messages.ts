/**
 * Messages between the engine (main thread) and the execution worker.
 *
 * User code runs in a worker thread so that the main thread stays free to
 * answer the control channel, the heartbeat and SIGINT while a cell spins.
 * Everything the worker reports carries the id of the cell it belongs to, so
 * the main thread can give each output the right parent header.
 */

/** A MIME bundle: `text/plain` plus richer types. */
export type MimeBundle = Record<string, unknown>;

/** How a cell ended. */
export type ExecuteOutcome =
  | { status: "ok"; data?: MimeBundle; metadata?: Record<string, unknown> }
  | {
      status: "error";
      ename: string;
      evalue: string;
      traceback: string[];
      /** compile: TypeScript diagnostics; runtime: a thrown value; interrupt: stopped by the user; reset: the context was replaced. */
      kind: "compile" | "runtime" | "interrupt" | "reset";
    };

export type ErrorOutcome = Extract<ExecuteOutcome, { status: "error" }>;

/** Phases of the worker, published through a SharedArrayBuffer (index PHASE): an interrupt never stops the compiler. */
export const Phase = { IDLE: 0, COMPILING: 1, RUNNING: 2 } as const;
/** Indices in the shared Int32Array. */
export const Shared = { PHASE: 0, LENGTH: 1 } as const;

export interface WorkerInit {
  /** Directory cells resolve modules and relative paths from. */
  cwd: string;
  /** Shared Int32Array buffer holding the worker's phase. */
  shared: SharedArrayBuffer;
}

export type ToWorker =
  | { type: "execute"; id: number; code: string; cellName: string }
  | { type: "interrupt"; id: number; how: string }
  | { type: "complete"; rid: number; code: string; pos: number }
  | { type: "inspect"; rid: number; code: string; pos: number }
  | { type: "ping"; rid: number };

export type FromWorker =
  | { type: "ready"; compilerVersion: string; startupMs: number }
  | { type: "stream"; id: number; name: "stdout" | "stderr"; text: string }
  | {
      type: "display";
      id: number;
      data: MimeBundle;
      metadata: Record<string, unknown>;
      displayId?: string;
      update: boolean;
    }
  | { type: "done"; id: number; outcome: ExecuteOutcome }
  | { type: "interrupt-ack"; id: number; wasRunning: boolean }
  | { type: "reply"; rid: number; value: unknown; error?: string }
  | { type: "fatal"; message: string };

/** Completion candidates, offsets in UTF-16 code units of the cell. */
export interface Completion {
  start: number;
  end: number;
  matches: string[];
}

/** Quick info for inspect_request. */
export interface Inspection {
  found: boolean;
  text: string;
}

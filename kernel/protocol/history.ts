/**
 * The cells this kernel executed, for history_request.
 *
 * Entries live in memory for the kernel's lifetime; the kernel's one session
 * is numbered 1, and session 0 (or the number itself) means "this session",
 * as in IPython. Earlier sessions (negative numbers) have no entries.
 */

export const SESSION_NUMBER = 1;

export interface HistoryEntry {
  line: number;
  input: string;
  /** text/plain of the execute_result, or null. */
  output: string | null;
}

export type HistoryItem = [number, number, string] | [number, number, [string, string | null]];

export interface HistoryRequest {
  output?: boolean;
  raw?: boolean;
  hist_access_type?: "range" | "tail" | "search";
  session?: number;
  start?: number;
  stop?: number | null;
  n?: number | null;
  pattern?: string;
  unique?: boolean;
}

export class History {
  private readonly entries: HistoryEntry[] = [];

  add(line: number, input: string): HistoryEntry {
    const entry: HistoryEntry = { line, input, output: null };
    this.entries.push(entry);
    return entry;
  }

  /** The reply content of a history_request. */
  query(request: HistoryRequest): { status: "ok"; history: HistoryItem[] } {
    const picked = this.select(request);
    const history = picked.map((e): HistoryItem =>
      request.output ? [SESSION_NUMBER, e.line, [e.input, e.output]] : [SESSION_NUMBER, e.line, e.input],
    );
    return { status: "ok", history };
  }

  private select(request: HistoryRequest): HistoryEntry[] {
    switch (request.hist_access_type ?? "tail") {
      case "tail": {
        const n = request.n ?? 10;
        return n > 0 ? this.entries.slice(-n) : [];
      }
      case "range": {
        const session = request.session ?? 0;
        if (session !== 0 && session !== SESSION_NUMBER) return [];
        const start = request.start ?? 0;
        const stop = request.stop ?? Infinity;
        return this.entries.filter((e) => e.line >= start && e.line < stop);
      }
      case "search": {
        const pattern = globToRegExp(request.pattern ?? "*");
        let found = this.entries.filter((e) => pattern.test(e.input));
        if (request.unique) {
          const seen = new Set<string>();
          found = found
            .reverse()
            .filter((e) => !seen.has(e.input) && seen.add(e.input))
            .reverse();
        }
        const n = request.n;
        return n != null && n > 0 ? found.slice(-n) : found;
      }
      default:
        return [];
    }
  }
}

/** IPython's history search patterns are globs: * any run, ? one character. */
function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, "[\\s\\S]*")
    .replace(/\?/g, "[\\s\\S]");
  return new RegExp(`^${body}$`);
}

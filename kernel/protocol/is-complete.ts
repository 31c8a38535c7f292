/**
 * is_complete_request: whether a console frontend should run the code now.
 *
 * - complete: it parses (or ends with two blank lines, tslab's escape hatch);
 * - incomplete: the only syntax errors are "X expected" at the very end, or an
 *   unterminated template literal / comment, so more lines can finish it;
 *   `indent` is what the next line should start with (tslab's rule);
 * - invalid: a syntax error elsewhere, which no further line can fix.
 */
type Ts = typeof import("@tslab/typescript-for-tslab");

let ts: Ts | undefined;
function typescript(): Ts {
  ts ??= require(require.resolve("@tslab/typescript-for-tslab", { paths: [require.resolve("tslab")] })) as Ts;
  return ts;
}

export type IsCompleteReply = { status: "complete" } | { status: "incomplete"; indent: string } | { status: "invalid" };

interface ParseDiagnostic {
  start: number;
  length: number;
  messageText: string | { messageText: string };
}

const CONTINUABLE = /^(Unterminated template literal\.|'\*\/' expected\.)$/;

export function isComplete(code: string): IsCompleteReply {
  if (/(^|\n)\s*\n\s*$/.test(code) && code.trim() !== "") return { status: "complete" };
  const t = typescript();
  const source = t.createSourceFile("cell.ts", code, t.ScriptTarget.Latest, false, t.ScriptKind.TS);
  const diagnostics = ((source as unknown as { parseDiagnostics?: ParseDiagnostic[] }).parseDiagnostics ?? []).map(
    (d) => ({
      start: d.start,
      length: d.length,
      text: typeof d.messageText === "string" ? d.messageText : d.messageText.messageText,
    }),
  );
  if (diagnostics.length === 0) return { status: "complete" };
  const end = code.length;
  const continuable = diagnostics.every(
    (d) => CONTINUABLE.test(d.text) || (d.start >= end && d.length === 0 && d.text.endsWith(" expected.")),
  );
  if (!continuable) return { status: "invalid" };
  const { isCompleteCode } = require("tslab/dist/converter") as typeof import("tslab/dist/converter");
  return { status: "incomplete", indent: isCompleteCode(code).indent ?? "" };
}

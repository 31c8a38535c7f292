/**
 * The introspection requests: complete_request, inspect_request and
 * is_complete_request, answered from the engine (or the parser) without
 * running code.
 *
 * Jupyter counts cursor positions in code points, JavaScript strings in UTF-16
 * code units: positions are converted on the way in and out, so completion
 * after an emoji lands where the user typed. A failing engine never fails the
 * request: the reply is empty (no matches, nothing found, status unknown) and
 * the cause goes to the kernel's log.
 */
import type { Engine } from "../engine/engine";
import { isComplete } from "./is-complete";

type Content = Record<string, unknown>;
type Log = (text: string) => void;

/** Offset in UTF-16 code units of the `codepoints`-th code point (Jupyter counts code points). */
function utf16Offset(text: string, codepoints: number): number {
  let i = 0;
  for (let cp = 0; i < text.length && cp < codepoints; cp++) i += text.codePointAt(i)! > 0xffff ? 2 : 1;
  return i;
}

/** Number of code points in the first `utf16` code units. */
function codepointOffset(text: string, utf16: number): number {
  return [...text.slice(0, utf16)].length;
}

/** The content of a complete_reply to a complete_request's content. */
export async function completeReply(engine: Engine, request: Content, log: Log): Promise<Content> {
  const code = String(request.code ?? "");
  const cursor = Number(request.cursor_pos ?? [...code].length);
  const pos = utf16Offset(code, cursor);
  try {
    const found = await engine.complete(code, pos);
    return {
      status: "ok",
      matches: found.matches,
      cursor_start: codepointOffset(code, found.start),
      cursor_end: codepointOffset(code, found.end),
      metadata: {},
    };
  } catch (error) {
    log(`complete_request failed: ${(error as Error).message}`);
    return { status: "ok", matches: [], cursor_start: cursor, cursor_end: cursor, metadata: {} };
  }
}

/** The content of an inspect_reply to an inspect_request's content. */
export async function inspectReply(engine: Engine, request: Content, log: Log): Promise<Content> {
  const code = String(request.code ?? "");
  const pos = utf16Offset(code, Number(request.cursor_pos ?? 0));
  try {
    const found = await engine.inspect(code, pos);
    const data = found.found ? { "text/plain": unfenceCode(found.text) } : {};
    return { status: "ok", found: found.found, data, metadata: {} };
  } catch (error) {
    log(`inspect_request failed: ${(error as Error).message}`);
    return { status: "ok", found: false, data: {}, metadata: {} };
  }
}

/**
 * Documentation as a plain-text tooltip shows it: Markdown code fences (```ts ... ```) become code indented by
 * four spaces, since Jupyter's tooltip prints text/plain literally.
 *
 * @example
 * ```ts
 * unfenceCode("Makes a table.\n```ts\nsy.table(rows)\n```");   // "Makes a table.\n    sy.table(rows)"
 * ```
 */
export function unfenceCode(text: string): string {
  let inCode = false;
  const out: string[] = [];
  for (const line of text.split("\n")) {
    if (/^\s*```[\w-]*\s*$/.test(line)) {
      inCode = !inCode;
      continue;
    }
    out.push(inCode ? `    ${line}` : line);
  }
  return out.join("\n");
}

/** The content of an is_complete_reply to an is_complete_request's content. */
export function isCompleteReply(request: Content, log: Log): Content {
  try {
    return isComplete(String(request.code ?? ""));
  } catch (error) {
    log(`is_complete_request failed: ${(error as Error).message}`);
    return { status: "unknown" };
  }
}

/**
 * The one rule for ids that reach a server: node ids, model ids, plan ids,
 * object ids and run ids. Ids end up in URLs, file names, database keys, log
 * lines and object keys, so they are short, plain and never special:
 *
 * - a string of 1 to 128 characters among `A-Z a-z 0-9 . _ : -`;
 * - no `..` and not `.` (path traversal), not `__proto__`, `constructor` or
 *   `prototype` (prototype pollution where an id becomes a key).
 *
 * @example
 * ```ts
 * checkId("convnet", "model id");                              // fine
 * checkId("..", "model id");                                   // throws TSYFT_ERR_INVALID_ID
 * checkId("a b", "node id", ErrorCode.WORKER_ID);             // throws TSYFT_ERR_WORKER_ID
 * ```
 */
import { ErrorCode, TsyftError } from "./errors";

/** Longest id accepted, in characters. */
export const MAX_ID_LENGTH = 128;

const ID_CHARACTERS = /^[A-Za-z0-9._:-]+$/;
const RESERVED_IDS: ReadonlySet<string> = new Set([".", "__proto__", "constructor", "prototype"]);

/**
 * Why `value` is not a valid id, or undefined when it is one.
 *
 * @example
 * ```ts
 * idProblem("bob");        // undefined
 * idProblem("a\u0000b");   // "has characters outside A-Z a-z 0-9 . _ : -"
 * ```
 */
export function idProblem(value: unknown): string | undefined {
  if (typeof value !== "string") return "is not a string";
  if (value.length === 0) return "is empty";
  if (value.length > MAX_ID_LENGTH) return `has ${value.length} characters, over ${MAX_ID_LENGTH}`;
  if (!ID_CHARACTERS.test(value)) return "has characters outside A-Z a-z 0-9 . _ : -";
  if (value.includes("..")) return 'contains ".."';
  if (RESERVED_IDS.has(value)) return "is reserved";
  return undefined;
}

/**
 * Whether `value` is a valid id.
 *
 * @example
 * ```ts
 * isValidId("__proto__");   // false
 * ```
 */
export function isValidId(value: unknown): value is string {
  return idProblem(value) === undefined;
}

/**
 * Throws (TSYFT_ERR_INVALID_ID unless another `code` is given) when `value`
 * is not a valid id; `what` names it in the message ("model id").
 *
 * @example
 * ```ts
 * const id = checkId(body.id, "node id", ErrorCode.WORKER_ID);
 * ```
 */
export function checkId(
  value: unknown,
  what: string,
  code: ErrorCode = ErrorCode.INVALID_ID,
  details: Record<string, unknown> = {},
): string {
  const problem = idProblem(value);
  if (problem === undefined) return value as string;
  throw new TsyftError(
    code,
    `Expected a ${what} of 1-${MAX_ID_LENGTH} characters among A-Z a-z 0-9 . _ : - (no "..", not __proto__, constructor or prototype); got ${showId(value)}, which ${problem}.`,
    { ...details, what },
  );
}

/** An id for a message: quoted, cut short, control characters escaped. */
function showId(value: unknown): string {
  if (typeof value !== "string") return typeof value === "object" ? "an object" : String(value);
  const shown = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  return value.length > 40 ? `${shown} (${value.length} characters)` : shown;
}

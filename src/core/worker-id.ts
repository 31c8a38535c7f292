/**
 * The rule every worker id follows, wherever a worker is made: the one id
 * rule of `ids.ts` (a VirtualWorker's id may later name a grid node, so the
 * two must never disagree), refused with TSYFT_ERR_WORKER_ID.
 */
import { ErrorCode } from "./errors";
import { checkId } from "./ids";

/**
 * Throws WORKER_ID unless `id` is a valid id (`checkId`: 1-128 characters
 * among A-Z a-z 0-9 . _ : -, no "..", nothing reserved); the message names
 * `where` the id was given.
 *
 * @param where what the caller is, named in the message ("VirtualWorker", "startNode").
 * @example
 * ```ts
 * checkWorkerId("bob", "VirtualWorker");        // fine
 * checkWorkerId("a b", "VirtualWorker");        // throws TSYFT_ERR_WORKER_ID
 * ```
 */
export function checkWorkerId(id: unknown, where: string): string {
  return checkId(id, `worker id for ${where}`, ErrorCode.WORKER_ID);
}

/**
 * The rule every worker id follows, wherever a worker is made.
 */
import { ErrorCode, TsyftError } from "./errors";

/**
 * Throws WORKER_ID unless `id` is a non-empty string without spaces, "/" or NUL
 * (ids end up in URLs, file names and log lines) nor any character of `reserved`.
 *
 * @param where what the caller is, named in the message ("VirtualWorker", "startNode").
 * @param reserved further characters the caller's own keys need for themselves.
 * @example
 * ```ts
 * checkWorkerId("bob", "VirtualWorker");        // fine
 * checkWorkerId("a b", "VirtualWorker");        // throws TSYFT_ERR_WORKER_ID
 * checkWorkerId("a|b", "startNode", ["|"]);     // throws TSYFT_ERR_WORKER_ID
 * ```
 */
export function checkWorkerId(id: unknown, where: string, reserved: readonly string[] = []): void {
  const banned = ["/", ...reserved];
  if (
    typeof id !== "string" ||
    id.length === 0 ||
    /\s/.test(id) ||
    id.includes("\0") ||
    banned.some((c) => id.includes(c))
  ) {
    const list = banned.length === 1 ? ` or ${banned[0]}` : `, ${banned.slice(0, -1).join(", ")} or ${banned.at(-1)}`;
    throw new TsyftError(
      ErrorCode.WORKER_ID,
      `${where}: expected { id: "a name without spaces${list}" }, got ${JSON.stringify(id)}.`,
    );
  }
}

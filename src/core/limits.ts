/**
 * What every limit check shares: the typed error a hit is answered with, and
 * the nesting-depth walk that keeps a deeply nested message from reaching
 * code that recurses over it (JSON.stringify, error messages) as a stack
 * overflow. The settings themselves live in the one config object
 * (config.ts); docs/limits.md lists them with their defaults.
 *
 * @example
 * ```ts
 * if (count >= getConfig().maxObjectsPerClient) throw limitError("maxObjectsPerClient", count, "objects held by ada");
 * checkNesting(decoded, getConfig().maxNestingDepth, "a request");   // throws MALFORMED_MESSAGE past it
 * ```
 */
import { getConfig, type LimitSetting } from "./config";
import { CommunicationError, ErrorCode, LimitError } from "./errors";

/**
 * The error of a limit hit: TSYFT_ERR_LIMIT with `details.limit` naming the
 * setting, `details.max` its value and `details.got` what came.
 *
 * @example
 * ```ts
 * throw limitError("maxOpElements", 1e8, "elements in the output of add [10000, 1] + [1, 10000]");
 * ```
 */
export function limitError(
  limit: LimitSetting,
  got: number,
  what: string,
  max: number = getConfig()[limit],
  details: Record<string, unknown> = {},
): LimitError {
  return new LimitError(
    ErrorCode.LIMIT,
    `${what}: ${got} is over the limit of ${max} (${limit}). Send less at a time, or raise ${limit} with sy.configure on the server.`,
    { ...details, limit, max, got },
  );
}

/**
 * Throws `limitError` when `got` is over the setting's value.
 *
 * @example
 * ```ts
 * checkLimit("maxDealerElements", elements, "ring elements of one dealer request");
 * ```
 */
export function checkLimit(limit: LimitSetting, got: number, what: string, max: number = getConfig()[limit]): void {
  if (got > max) throw limitError(limit, got, what, max);
}

/**
 * Counts the objects a client holds against `maxObjectsPerClient`; the
 * worker calls it before it creates an object in that client's namespace
 * (workers/object-store.ts).
 *
 * @example
 * ```ts
 * checkObjectsPerClient(store.countOf(owner), owner);
 * ```
 */
export function checkObjectsPerClient(held: number, client: string, max = getConfig().maxObjectsPerClient): void {
  if (held >= max) {
    throw limitError("maxObjectsPerClient", held + 1, `objects held by ${client} on this node`, max, { client });
  }
}

/**
 * Throws MALFORMED_MESSAGE when arrays and maps in `value` nest deeper than
 * `maxDepth` (a top-level array is depth 1). Iterative, so it never
 * overflows the stack itself; typed arrays and other leaves are not entered.
 *
 * @example
 * ```ts
 * checkNesting(JSON.parse(body), 64, "a JSON body");
 * ```
 */
export function checkNesting(value: unknown, maxDepth: number, what: string): void {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (!isContainer(node)) continue;
    if (depth + 1 > maxDepth) {
      throw new CommunicationError(
        ErrorCode.MALFORMED_MESSAGE,
        `Malformed message: ${what} nests arrays or maps deeper than ${maxDepth} levels (maxNestingDepth). ` +
          `Messages from tsyft are shallow; send a flatter structure.`,
        { limit: "maxNestingDepth", max: maxDepth },
      );
    }
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (isContainer(child)) stack.push([child, depth + 1]);
    }
  }
}

function isContainer(value: unknown): value is object {
  // Decoders (MessagePack, JSON) make only arrays and plain objects; everything else is a leaf.
  return (
    Array.isArray(value) ||
    (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype)
  );
}

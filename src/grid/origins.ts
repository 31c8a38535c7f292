/**
 * Which browser pages may open sockets to a node: a list of origins (scheme,
 * host, port), or "*" for any page. A node takes it from its options, else
 * from TSYFT_ALLOWED_ORIGINS (what `--allow-origin` of `tsyft node` and
 * `tsyft grid up` sets), else allows only its gateway's page.
 *
 * @example
 * ```ts
 * parseOrigins("http://localhost:8080, https://app.example.org");   // ["http://localhost:8080", "https://app.example.org"]
 * ```
 */
import { ErrorCode, TsyftError } from "../core/errors";

/** The environment setting nodes read (comma-separated origins), which `grid up` passes to the nodes it starts. */
export const ALLOWED_ORIGINS_ENV = "TSYFT_ALLOWED_ORIGINS";

/**
 * Origins from a comma-separated list, each checked to be an http(s) origin without a path, or "*".
 * Throws TSYFT_ERR_INVALID_ARGUMENT naming the bad entry and where it came from.
 *
 * @example
 * ```ts
 * parseOrigins("*");   // ["*"]
 * ```
 */
export function parseOrigins(list: string, where: string): string[] {
  return list
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o !== "")
    .map((o) => {
      if (o === "*") return o;
      let url: URL | undefined;
      try {
        url = new URL(o);
      } catch {
        url = undefined;
      }
      if (!url || !/^https?:$/.test(url.protocol) || url.origin !== o.replace(/\/$/, "")) {
        throw new TsyftError(
          ErrorCode.INVALID_ARGUMENT,
          `${where}: expected origins such as https://app.example.org or http://localhost:8080 (scheme, host, ` +
            `port; no path), or * for any page, got ${JSON.stringify(o)}.`,
          { origin: o },
        );
      }
      return url.origin;
    });
}

/** The allow-list from TSYFT_ALLOWED_ORIGINS, when it is set (checked). */
export function originsFromEnvironment(env: Readonly<Record<string, string | undefined>> = process.env) {
  const list = env[ALLOWED_ORIGINS_ENV];
  return list === undefined || list.trim() === "" ? undefined : parseOrigins(list, ALLOWED_ORIGINS_ENV);
}

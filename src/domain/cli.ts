/**
 * `tsyft domain`: runs a domain node until stopped.
 *
 *   tsyft domain --name <name> [--port 8081] [--host 127.0.0.1] [--data-dir <dir>] [--database postgres://...]
 *                [--tls-cert <file> --tls-key <file>] [--session-hours 12]
 *
 * Listens on 127.0.0.1 unless --host says otherwise (another address is
 * warned about without TLS, and while the owner's password is PySyft's
 * default). The data dir (default out/domain, or TSYFT_DOMAIN_DATA) holds the
 * PGlite database, the asset files and the domain's signing credential.
 * Prints one JSON line when listening (`{"event":"listening","role":"domain",...}`).
 *
 * @example
 * ```ts
 * // npx tsyft domain --name "Hospital A" --port 8081 --data-dir ./domain-a
 * process.exitCode = await runDomainCli(["--name", "Hospital A", "--data-dir", dir]);
 * ```
 */
import { announce, parse, portOf, str, tlsOf, untilStopped, UsageError } from "../grid/cli-flags";
import { isLoopbackHost } from "../grid/exposure";
import { DEFAULT_OWNER } from "./defaults";
import { verifyPassword } from "./passwords";
import { startDomain } from "./server";

export const DOMAIN_USAGE = `  tsyft domain --name <name> [--port 8081] [--host 127.0.0.1] [--data-dir <dir>] [--database <postgres url>]
               [--tls-cert <file> --tls-key <file>] [--session-hours 12]`;

/** Runs `tsyft domain ...`; resolves with the exit code once stopped. */
export async function runDomainCli(args: readonly string[]): Promise<number> {
  const values = parse(args, {
    name: { type: "string" },
    port: { type: "string" },
    host: { type: "string" },
    "data-dir": { type: "string" },
    database: { type: "string" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
    "session-hours": { type: "string" },
  });
  const name = str(values, "name");
  if (!name) throw new UsageError("tsyft domain: --name <name> is required (shown to users at login).");
  const hours = values["session-hours"] === undefined ? undefined : Number(values["session-hours"]);
  if (hours !== undefined && !(hours > 0)) {
    throw new UsageError(`--session-hours: expected a positive number, got ${values["session-hours"]}.`);
  }
  const host = str(values, "host") ?? "127.0.0.1";
  const tls = tlsOf(values);
  const domain = await startDomain({
    name,
    port: portOf(values.port, 8081),
    host,
    dataDir: str(values, "data-dir") ?? process.env.TSYFT_DOMAIN_DATA ?? "out/domain",
    databaseUrl: str(values, "database"),
    tls,
    sessionMs: hours === undefined ? undefined : hours * 3600_000,
  });
  const owner = await domain.store.users.byEmail(DEFAULT_OWNER.email);
  const defaultPassword = owner !== undefined && (await verifyPassword(DEFAULT_OWNER.password, owner.passwordHash));
  if (!isLoopbackHost(host)) {
    if (!tls)
      console.error(
        `tsyft domain: warning: listening on ${host} without TLS; passwords cross the network in the clear. Pass --tls-cert and --tls-key.`,
      );
    if (defaultPassword)
      console.error(
        "tsyft domain: warning: the Owner still has PySyft's default password; anyone reaching the port can log in. Change it first.",
      );
  }
  announce({ role: "domain", id: name, port: domain.port, url: domain.url });
  console.error(`tsyft domain ${JSON.stringify(name)} listening on ${domain.url} (${domain.store.kind} database)`);
  const reason = await untilStopped(values["exit-with-parent"] === true);
  console.error(`tsyft domain: stopping (${reason})`);
  await domain.close();
  return 0;
}

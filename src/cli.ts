/**
 * The whole `tsyft` command line (bin/tsyft.js): the grid's commands
 * (src/grid/cli.ts) and those of layers above it, which the grid cannot
 * import: `tsyft domain` (src/domain/cli.ts).
 *
 * @example
 * ```ts
 * process.exitCode = await main(["domain", "--name", "Hospital A", "--port", "8081"]);
 * ```
 */
import { DOMAIN_USAGE, runDomainCli } from "./domain/cli";
import { main as gridMain } from "./grid/cli";

/** Runs the CLI; resolves with the exit code (servers resolve only when stopped). */
export function main(argv: readonly string[]): Promise<number> {
  return gridMain(argv, { domain: { usage: DOMAIN_USAGE, run: runDomainCli } });
}

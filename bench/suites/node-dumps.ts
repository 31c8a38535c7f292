/**
 * Profiles from grid node processes: each node started with TSYFT_PROFILE_DIR
 * writes its profile report there when it receives SIGUSR2 (grid/node-profile.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type * as sy from "../../src";
import type { ProfileReport } from "../../src/core/profiler";

/** Asks each node for its profile (SIGUSR2) and waits for the dump numbered `dump`. */
export async function dumpNodes(
  dir: string,
  nodes: readonly sy.grid.GridMember[],
  dump: number,
): Promise<ProfileReport[]> {
  for (const n of nodes) process.kill(n.pid!, "SIGUSR2");
  const read = (id: string) => {
    try {
      const report = JSON.parse(fs.readFileSync(path.join(dir, `${id}.json`), "utf8")) as ProfileReport & {
        dump: number;
      };
      return report.dump === dump ? report : undefined;
    } catch {
      return undefined;
    }
  };
  for (let waited = 0; waited < 30_000; waited += 20) {
    const reports = nodes.map((n) => read(n.id));
    if (reports.every((r) => r !== undefined)) return reports as ProfileReport[];
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`profile: the nodes did not write profile dump ${dump} to ${dir} within 30 s.`);
}

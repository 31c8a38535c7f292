// Issue 10, "Two users at once wedge the grid": clients in separate
// processes reach the holders in different orders. Ten client processes
// (test/grid/fixtures/query-client.js, against dist/) each make five
// concurrent queries of the linear toy through the gateway: all fifty must
// answer [1022], none may time out, and the next user must be served too.
// Then 2,000 sequential queries must leave every node's object count exactly
// where it was and its RSS within a stated bound.
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUERY_CLIENT, processRssMb, runQueryClients } from "../../bench/suites/load";
import { packageRoot } from "../../src/core/package-root";
import { publicGrid, userToken } from "./hostile/api";
import { ANSWER, SECRETS, TOY, startToyGrid, type ToyGrid } from "./hostile/toy-grid";

/** How much a node's RSS may grow over the 2,000 queries (GC and allocator slack, not a leak). */
const RSS_BOUND_MB = 48;
const SEQUENTIAL = 2_000;

let g: ToyGrid;

beforeAll(async () => {
  const library = path.join(packageRoot(), "dist", "src", "index.js");
  if (!fs.existsSync(library)) throw new Error(`${QUERY_CLIENT} runs against ${library}: run npm run build first.`);
  g = await startToyGrid();
});

afterAll(async () => {
  await g?.stop();
});

describe("many users at once", () => {
  it("10 client processes (5 anonymous, 5 users) x 5 concurrent queries: 50 answers [1022], no timeout; the next user is served", async () => {
    const spec = {
      gateway: g.gateway.url,
      model: TOY,
      input: [...SECRETS.input],
      shape: [2],
      queries: 5,
      concurrency: 5,
      mpc: true,
    };
    // Five anonymous processes and five signed in as users of the grid, all at once.
    const groups = await Promise.all([
      runQueryClients(spec, 5),
      runQueryClients({ ...spec, token: userToken(g.credentials, "ada") }, 5),
    ]);
    const perProcess = groups.flatMap((group) => group.results);
    const results = perProcess.flat();
    expect(results).toHaveLength(50);
    const failures: Record<string, number> = {};
    for (const r of results)
      if (r.error) failures[r.error.code || r.error.name] = (failures[r.error.code || r.error.name] ?? 0) + 1;
    const first = results.find((r) => r.error)?.error?.message;
    expect(failures, `failed queries by code (timeouts included); the first: ${first}`).toEqual({});
    const wrong = results.filter((r) => Math.abs((r.answer?.[0] ?? NaN) - ANSWER) > 1e-2).map((r) => r.answer);
    expect(wrong, "answers other than [1022]").toEqual([]);
    expect((await g.query())[0], "the next user's answer").toBeCloseTo(ANSWER, 2);
  });
});

// Flat object counts need queries to release their shares on the holders (the authorization part).
describe("2,000 queries later", () => {
  it(`node RSS and object counts stay flat over ${SEQUENTIAL} sequential queries`, async () => {
    const user = publicGrid(g.hook, g.gateway.url);
    const query = async () => {
      const y = await user.runRemoteInference(TOY, tf.tensor([...SECRETS.input]), { mpc: true });
      const answer = y.dataSync()[0]!;
      y.dispose();
      return answer;
    };
    const snapshot = async () => {
      const out: Record<string, { objects: number; rssMb: number }> = {};
      for (const [id, member] of Object.entries(g.nodes)) {
        out[id] = { objects: (await g.health(id)).objects, rssMb: processRssMb(member.pid!) };
      }
      return out;
    };
    try {
      for (let i = 0; i < 50; i++) await query(); // warm-up: connections, the fetched plan, JIT
      const before = await snapshot();
      const started = Date.now();
      const wrong: number[] = [];
      for (let i = 0; i < SEQUENTIAL; i++) {
        const answer = await query();
        if (Math.abs(answer - ANSWER) > 1e-2) wrong.push(answer);
      }
      const seconds = (Date.now() - started) / 1000;
      const after = await snapshot();
      console.log(
        `${SEQUENTIAL} sequential queries in ${seconds.toFixed(1)} s; per node (objects, RSS MB) before -> after: ` +
          Object.keys(before)
            .map(
              (id) =>
                `${id} ${before[id]!.objects} -> ${after[id]!.objects}, ` +
                `${before[id]!.rssMb.toFixed(0)} -> ${after[id]!.rssMb.toFixed(0)}`,
            )
            .join("; "),
      );
      expect(wrong, "answers other than [1022]").toEqual([]);
      const objects = (s: typeof before) => Object.fromEntries(Object.entries(s).map(([id, n]) => [id, n.objects]));
      expect(objects(after), "objects per node after the queries").toEqual(objects(before));
      for (const id of Object.keys(before)) {
        expect(after[id]!.rssMb - before[id]!.rssMb, `${id}'s RSS growth in MB`).toBeLessThan(RSS_BOUND_MB);
      }
    } finally {
      await user.close();
    }
  }, 900_000);
});

// Issue 10, "Answers go wrong, silently": the crypto provider and each holder
// are killed (SIGKILL) and restarted on their data dirs, idle and in the
// middle of queries. Every query of the linear toy and of a CNN-shaped plan
// (conv2d + relu + dense: its weights are fixed operands, so the holders
// cache their opened masks) must give the plaintext answer or a typed error,
// never a wrong number, and right answers must come back without anyone
// calling connectAllNodes, for the user who was there before and for a new
// one; also when a holder comes back on a new port, and while the gateway is
// down (clients keep the model's placement). A holder that freezes (SIGSTOP)
// must be the one a timeout names.
import type { ChildProcess } from "node:child_process";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as sy from "../../src";
import { isAlive, sleep, spawnCli, stopChild, waitHealthy, waitListening } from "../../src/grid/processes";
import { isTypedFailure, publicGrid, serve } from "./hostile/api";
import { ANSWER, SECRETS, TOY, startToyGrid, waitOnline, type Member, type ToyGrid } from "./hostile/toy-grid";

/** A CNN-shaped plan: conv2d (3x3, 2 filters) + relu + dense, on 6x6x1 inputs. */
class SmallCnn extends sy.Plan {
  kernel = tf.randomNormal([3, 3, 1, 2], 0, 0.5, "float32", 11);
  w = tf.randomNormal([32, 2], 0, 0.3, "float32", 12);
  b = tf.tensor([0.5, -0.25]);
  override forward(x: sy.TensorLike) {
    return sy.F.matmul(sy.F.flatten(sy.F.relu(sy.F.conv2d(x, this.kernel))), this.w).add(this.b);
  }
}

interface Model {
  id: string;
  input: number[];
  shape: number[];
  expected: number[];
}

const CNN = "cnn";
const TOLERANCE = 0.05;
/** Client-side wait per query, so that a hung query fails (typed) well within the test. */
const QUERY_TIMEOUT_MS = 20_000;

let g: ToyGrid;
let models: Model[];
/** A user who queried before every restart and keeps its network (its cached plan and placement). */
let regular: sy.PublicGridNetwork;
const restarted: ChildProcess[] = [];

beforeAll(async () => {
  g = await startToyGrid();
  const cnn = new SmallCnn({ id: CNN });
  await cnn.build(tf.zeros([1, 6, 6, 1]));
  const input = Array.from(tf.randomUniform([36], -1, 1, "float32", 13).dataSync());
  const expected = Array.from((cnn.run(tf.tensor(input, [1, 6, 6, 1])) as tf.Tensor).dataSync());
  await serve(g.owner, cnn, { id: CNN, mpc: true, allowRemoteInference: true });
  models = [
    { id: TOY, input: [...SECRETS.input], shape: [2], expected: [ANSWER] },
    { id: CNN, input, shape: [1, 6, 6, 1], expected },
  ];
  regular = publicGrid(g.hook, g.gateway.url);
  for (const model of models) expect(await attempt(regular, model)).toBe("right");
});

afterAll(async () => {
  await regular?.close();
  await Promise.all(restarted.map((c) => stopChild(c)));
  await g?.stop();
});

type Outcome = "right" | `typed ${string}` | `WRONG ${string}` | `untyped ${string}`;

/** One query: the plaintext answer, a typed error, or (what must never be) a wrong number or an untyped error. */
async function attempt(network: sy.PublicGridNetwork, model: Model): Promise<Outcome> {
  try {
    const y = await sy.withConfig({ timeoutMs: QUERY_TIMEOUT_MS }, () =>
      network.runRemoteInference(model.id, tf.tensor(model.input, model.shape), { mpc: true }),
    );
    const answer = Array.from(y.dataSync());
    y.dispose();
    const right =
      answer.length === model.expected.length && answer.every((v, i) => Math.abs(v - model.expected[i]!) <= TOLERANCE);
    return right ? "right" : `WRONG ${model.id}: [${answer.join(", ")}], expected [${model.expected.join(", ")}]`;
  } catch (error) {
    return isTypedFailure(error)
      ? `typed ${error.code}: ${error.message.slice(0, 200)}`
      : `untyped ${(error as Error).message}`;
  }
}

/** Outcomes that break the promise: wrong numbers and untyped errors. */
function broken(outcomes: readonly Outcome[]): Outcome[] {
  return outcomes.filter((o) => o.startsWith("WRONG") || o.startsWith("untyped"));
}

/**
 * Queries each model until it answers right (a second apart, for at most
 * `withinMs` each), with the regular user and with a new one; resolves with
 * every outcome seen and whether each came back.
 */
async function untilRight(withinMs = 45_000): Promise<{ outcomes: Outcome[]; back: Record<string, boolean> }> {
  const outcomes: Outcome[] = [];
  const back: Record<string, boolean> = {};
  const newcomer = publicGrid(g.hook, g.gateway.url);
  try {
    for (const [who, network] of [
      ["regular", regular],
      ["new", newcomer],
    ] as const) {
      for (const model of models) {
        back[`${model.id} (${who} user)`] = false;
        for (const deadline = Date.now() + withinMs; Date.now() < deadline;) {
          const outcome = await attempt(network, model);
          outcomes.push(outcome);
          if (outcome === "right") {
            back[`${model.id} (${who} user)`] = true;
            break;
          }
          if (broken([outcome]).length > 0) break;
          await sleep(1_000);
        }
      }
    }
  } finally {
    await newcomer.close();
  }
  return { outcomes, back };
}

async function kill(member: Member): Promise<void> {
  process.kill(member.pid!, "SIGKILL");
  while (isAlive(member.pid!)) await sleep(20);
}

/** Starts node `id` again on its data dir (on `port`, default its old one) and records where it is. */
async function restartNode(id: keyof ToyGrid["nodes"], port = g.nodes[id].port): Promise<void> {
  const child = spawnCli([
    "node",
    "--id",
    id,
    "--port",
    String(port),
    "--host",
    "127.0.0.1",
    "--gateway",
    g.gateway.url,
    "--data-dir",
    path.join(g.dataDir, id),
  ]);
  restarted.push(child);
  const info = await waitListening(child, id, 120_000);
  await waitHealthy(`http://127.0.0.1:${info.port}/health`, 120_000);
  g.nodes[id] = { id, url: info.url, port: info.port, pid: child.pid };
}

/** Starts the gateway again on its port and data dir; resolves once the nodes have joined it again. */
async function restartGateway(): Promise<void> {
  const child = spawnCli([
    "gateway",
    "--port",
    String(g.gateway.port),
    "--host",
    "127.0.0.1",
    // The grid key as startLocalGrid gave it (one argument: a base64url key may start with "-"); without it the
    // gateway would make a grid of its own and refuse every node's join.
    `--admin-key=${g.credentials.gridKey}`,
    "--data-dir",
    path.join(g.dataDir, "gateway"),
    // The grid key, as startLocalGrid gave it (the grid's credentials live in its data dir, not the gateway's).
    `--admin-key=${g.credentials.gridKey}`,
  ]);
  restarted.push(child);
  await waitListening(child, "gateway", 120_000);
  g.gateway.pid = child.pid;
  await waitOnline(g.gateway.url, 4, 60_000);
}

/** Queries in flight (the regular user's and a new user's, both models) while `disrupt` runs. */
async function midQuery(disrupt: () => Promise<void>): Promise<Outcome[]> {
  const newcomer = publicGrid(g.hook, g.gateway.url);
  try {
    // The newcomer first fetches its plans, so that the disruption lands inside the protocol runs.
    for (const model of models) await attempt(newcomer, model);
    const inFlight = [regular, newcomer].flatMap((network) =>
      models.flatMap((model) => [attempt(network, model), attempt(network, model)]),
    );
    await sleep(20);
    await disrupt();
    return await Promise.all(inFlight);
  } finally {
    await newcomer.close();
  }
}

function expectKept(outcomes: Outcome[], back: Record<string, boolean>, what: string): void {
  expect(broken(outcomes), `${what}: wrong numbers or untyped errors`).toEqual([]);
  expect(
    Object.keys(back).filter((k) => !back[k]),
    `${what}: models and users never answered right again (outcomes seen: ${[...new Set(outcomes)].join(" | ")})`,
  ).toEqual([]);
}

describe("a frozen holder", () => {
  it("a query while charlie is frozen (SIGSTOP) fails typed, naming charlie; once it thaws, right answers", async () => {
    const charlie = g.nodes.charlie.pid!;
    process.kill(charlie, "SIGSTOP");
    let error: unknown;
    try {
      // The default timeouts, as a user has them.
      error = await regular.runRemoteInference(CNN, tf.tensor(models[1]!.input, models[1]!.shape), { mpc: true }).then(
        () => undefined,
        (e: unknown) => e,
      );
    } finally {
      process.kill(charlie, "SIGCONT");
    }
    expect(isTypedFailure(error), `a typed failure: ${String(error)}`).toBe(true);
    const message = (error as Error).message;
    expect(message, "the error names the node that did not answer").toMatch(/charlie/);
    const { outcomes, back } = await untilRight();
    expectKept(outcomes, back, "after charlie thawed");
  }, 600_000);
});

// Clients keeping a model's placement while the gateway is down: the runtime part.
describe("the gateway is down", () => {
  it("a user who queried before keeps getting right answers while the gateway is down", async () => {
    const user = publicGrid(g.hook, g.gateway.url);
    let killed = false;
    try {
      for (const model of models) expect(await attempt(user, model)).toBe("right");
      await kill(g.gateway);
      killed = true;
      const outcomes: Outcome[] = [];
      for (const model of models) outcomes.push(await attempt(user, model));
      expect(outcomes, "answers while the gateway is down").toEqual(models.map(() => "right"));
    } finally {
      await user.close();
      if (killed) await restartGateway();
    }
  }, 300_000);
});

describe("the crypto provider restarts", () => {
  it("killed while idle and restarted: never a wrong answer, then right answers for old and new users", async () => {
    await kill(g.nodes.dan);
    await restartNode("dan");
    const { outcomes, back } = await untilRight();
    expectKept(outcomes, back, "after dan's idle restart");
  }, 600_000);

  it("killed mid-query and restarted: the queries in flight fail typed or answer right; then right answers", async () => {
    const during = await midQuery(() => kill(g.nodes.dan));
    await restartNode("dan");
    const { outcomes, back } = await untilRight();
    expectKept([...during, ...outcomes], back, "after dan's restart mid-query");
  }, 600_000);
});

describe("a holder restarts", () => {
  for (const holder of ["bob", "charlie"] as const) {
    it(`${holder} killed while idle and restarted on its data dir: never a wrong answer, then right answers`, async () => {
      await kill(g.nodes[holder]);
      await restartNode(holder);
      const { outcomes, back } = await untilRight();
      expectKept(outcomes, back, `after ${holder}'s idle restart`);
    }, 600_000);

    it(`${holder} killed mid-query and restarted: typed errors or right answers in flight; then right answers`, async () => {
      const during = await midQuery(() => kill(g.nodes[holder]));
      await restartNode(holder);
      const { outcomes, back } = await untilRight();
      expectKept([...during, ...outcomes], back, `after ${holder}'s restart mid-query`);
    }, 600_000);
  }
});

// A holder on a new port linked again through the gateway's vouched address: the runtime part.
describe("a holder comes back on a new port", () => {
  it("a holder restarted on a new port is linked again without connectAllNodes; the gateway lists its new address", async () => {
    const oldPort = g.nodes.charlie.port;
    await kill(g.nodes.charlie);
    await restartNode("charlie", 0);
    expect(g.nodes.charlie.port).not.toBe(oldPort);
    const { outcomes, back } = await untilRight(60_000);
    const listed = (await g.owner.gateway.nodes()).find((n) => n.id === "charlie");
    expect(listed?.address, "charlie's address at the gateway").toBe(g.nodes.charlie.url);
    // The regular user's network finds charlie where the gateway lists it now, as a new user's does.
    expectKept(outcomes, back, "after charlie came back on a new port");
  }, 600_000);
});

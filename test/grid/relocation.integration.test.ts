// Issue 10, item 5: a grid of node processes (startLocalGrid with data dirs)
// serves the linear toy with mpc, and a user keeps querying it while its
// members go away and come back, without anyone calling connectAllNodes:
// - a holder (bob) killed and started on its data dir on ANOTHER port: it
//   redials its peers, the gateway lists its new address (its signed join),
//   and the user's network, whose link to bob is down, finds bob there;
// - the crypto provider (dan), which both holders had dialed, on another
//   port: the holders' redials fail at the old address, they ask the gateway
//   where dan is now and link again;
// - the gateway killed: the user's network answers from the placement it
//   remembers (a new network, which remembers nothing, cannot), and once the
//   gateway is back, both answer.
// Every query answers [1022] for [5, 3]; no timing is asserted (waits poll
// with deadlines).
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as sy from "../../src";
import * as grid from "../../src/grid";
import { issueUserToken } from "../../src/grid/auth";
import { httpJson } from "../../src/grid/http-util";
import { isAlive, spawnCli, stopChild, waitListening } from "../../src/grid/processes";
import { eventually } from "./helpers";
import { ANSWER, SECRETS, TOY, Toy } from "./hostile/toy-grid";

let hook: sy.SyHook;
let dataDir: string;
let local: grid.LocalGrid;
/** Where each member is now (members restarted here move). */
const where: Record<string, { url: string; port: number; pid: number }> = {};
const restarted: ChildProcess[] = [];
/** A user of the grid who queried before every restart and keeps its network. */
let regular: sy.PublicGridNetwork;
let userToken: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  hook = sy.hook(tf);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-relocation-"));
  local = await grid.startLocalGrid({ ports: "random", dataDir });
  for (const m of [local.gateway, ...local.nodes]) where[m.id] = { url: m.url, port: m.port, pid: m.pid! };
  const owner = new sy.PublicGridNetwork(hook, local.gateway.url, { token: local.adminToken });
  try {
    await eventually(async () => (await owner.onlineNodes()).length === 4, 60_000, "4 nodes online");
    const model = new Toy({ id: TOY });
    await model.build(tf.tensor([1.0, 2]));
    await owner.serveModel(model, { id: TOY, allowRemoteInference: true, mpc: true });
  } finally {
    await owner.close();
  }
  userToken = issueUserToken(local.adminToken, { subject: "ada" });
  regular = new sy.PublicGridNetwork(hook, local.gateway.url, { token: userToken });
  expect(await query(regular)).toBeCloseTo(ANSWER, 2);
}, 300_000);

afterAll(async () => {
  await regular?.close();
  await Promise.all(restarted.map((c) => stopChild(c)));
  await local?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

/** One query of the toy: [5, 3] -> the answer. */
async function query(network: sy.PublicGridNetwork): Promise<number> {
  const y = await network.runRemoteInference(TOY, tf.tensor([...SECRETS.input]), { mpc: true });
  const [answer] = y.dataSync();
  y.dispose();
  return answer!;
}

async function kill(id: string): Promise<void> {
  const { pid } = where[id]!;
  process.kill(pid, "SIGKILL");
  await eventually(() => !isAlive(pid), 30_000, `${id} gone`);
}

/** Starts `tsyft node --id <id>` on its data dir on a free port; resolves once it listens. */
async function restartOnNewPort(id: string): Promise<void> {
  const child = spawnCli([
    "node",
    "--id",
    id,
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    "--gateway",
    local.gateway.url,
    "--data-dir",
    path.join(dataDir, id),
  ]);
  restarted.push(child);
  const info = await waitListening(child, id, 120_000);
  expect(info.port, `${id} came back on another port`).not.toBe(where[id]!.port);
  where[id] = { url: info.url, port: info.port, pid: child.pid! };
}

/** The gateway's entry of node `id`. */
async function listed(id: string): Promise<grid.RegisteredNode | undefined> {
  const { body } = await httpJson<{ nodes?: grid.RegisteredNode[] }>("GET", `${local.gateway.url}/nodes`);
  return body?.nodes?.find((n) => n.id === id);
}

/** Waits until the gateway lists `id` online at where it is now. */
async function waitListedHere(id: string): Promise<void> {
  await eventually(
    async () => {
      const entry = await listed(id).catch(() => undefined);
      return entry?.status === "online" && entry.address === where[id]!.url;
    },
    60_000,
    `the gateway listing ${id} at ${where[id]!.url}`,
  );
}

/** Waits until node `id`'s GET /health lists every one of `peers` as linked. */
async function waitLinked(id: string, peers: readonly string[]): Promise<void> {
  await eventually(
    async () => {
      const health = await httpJson<grid.NodeHealth>("GET", `http://127.0.0.1:${where[id]!.port}/health`).catch(
        () => undefined,
      );
      return peers.every((p) => health?.body?.peers?.includes(p));
    },
    60_000,
    `${id} linked to ${peers.join(", ")}`,
  );
}

describe("members that come back elsewhere", () => {
  it("bob, a holder, killed and restarted on another port: linked again, and the next query is right", async () => {
    await kill("bob");
    await restartOnNewPort("bob");
    await waitListedHere("bob");
    await waitLinked("bob", ["charlie", "dan"]);
    expect(await query(regular), "the regular user (its link to bob was down)").toBeCloseTo(ANSWER, 2);
    const newcomer = new sy.PublicGridNetwork(hook, local.gateway.url, { token: userToken });
    try {
      expect(await query(newcomer), "a new user").toBeCloseTo(ANSWER, 2);
    } finally {
      await newcomer.close();
    }
  }, 300_000);

  it("dan, the crypto provider both holders dialed, on another port: the holders find it at the gateway", async () => {
    await kill("dan");
    await restartOnNewPort("dan");
    await waitListedHere("dan");
    // Nobody links dan again: bob and charlie redial, fail at dan's old port and ask the gateway.
    await waitLinked("bob", ["dan"]);
    await waitLinked("charlie", ["dan"]);
    expect(await query(regular)).toBeCloseTo(ANSWER, 2);
  }, 300_000);
});

describe("the gateway is down", () => {
  it("a user who queried keeps getting right answers; a new one cannot find the model; both can once it is back", async () => {
    expect(await query(regular)).toBeCloseTo(ANSWER, 2);
    await kill("gateway");
    expect(await query(regular), "from the remembered placement").toBeCloseTo(ANSWER, 2);
    expect(await query(regular), "and again").toBeCloseTo(ANSWER, 2);
    const newcomer = new sy.PublicGridNetwork(hook, local.gateway.url, { token: userToken });
    try {
      const error = await query(newcomer).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, "a network that never reached the gateway knows no placement").toMatchObject({
        code: sy.ErrorCode.CONNECTION,
      });
      const child = spawnCli([
        "gateway",
        "--port",
        String(where.gateway!.port),
        "--host",
        "127.0.0.1",
        `--admin-key=${local.gridKey}`,
        "--data-dir",
        path.join(dataDir, "gateway"),
      ]);
      restarted.push(child);
      await waitListening(child, "gateway", 120_000);
      where.gateway!.pid = child.pid!;
      for (const id of ["alice", "bob", "charlie", "dan"]) await waitListedHere(id);
      expect(await query(regular), "the regular user, the gateway back").toBeCloseTo(ANSWER, 2);
      expect(await query(newcomer), "the new user, the gateway back").toBeCloseTo(ANSWER, 2);
    } finally {
      await newcomer.close();
    }
  }, 300_000);
});

// The grid as separate processes: startLocalGrid's children (a gateway and
// four nodes on random ports), secure ops among them, and the CLI's
// `grid up --detach` / `grid status` / `grid down`.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterEach, describe, expect, it } from "vitest";
import * as sy from "../../src";
import * as grid from "../../src/grid";
import { httpJson } from "../../src/grid/http-util";
import { cliCommand, isAlive, spawnCli, stopChild, waitListening } from "../../src/grid/processes";
import { eventually, maxDiff, tempDir } from "./helpers";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** Runs the CLI to completion; resolves with its exit code and output. */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { command, args: argv } = cliCommand(args);
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

async function expectAllHealthy(members: readonly grid.GridMember[]): Promise<void> {
  for (const m of members) {
    const { status, body } = await httpJson<{ id?: string; role?: string }>("GET", `http://127.0.0.1:${m.port}/health`);
    expect(status, m.id).toBe(200);
    if (m.role === "node") expect(body.id).toBe(m.id);
    else expect(body.role).toBe("gateway");
  }
}

describe("startLocalGrid: a gateway and four nodes as child processes", () => {
  it("all five healthy, nodes joined, secure ops among the processes match TF.js, and stop() ends them", async () => {
    const local = await grid.startLocalGrid({ ports: "random" });
    cleanups.push(() => local.stop());
    const members = [local.gateway, ...local.nodes];
    expect(local.nodes.map((n) => n.id)).toEqual(["alice", "bob", "charlie", "dan"]);
    expect(new Set(members.map((m) => m.port)).size).toBe(5);
    await expectAllHealthy(members);
    await eventually(
      async () =>
        (await httpJson<{ nodes: grid.RegisteredNode[] }>("GET", `${local.gateway.url}/nodes`)).body.nodes.filter(
          (n) => n.status === "online",
        ).length === 4,
      30_000,
      "four nodes online in the gateway",
    );

    const hook = sy.hook(tf);
    const clients = local.clients(hook);
    cleanups.push(() => Promise.all(clients.map((c) => c.close())));
    await grid.connectAllNodes(clients);
    const [alice, bob, charlie, dan] = clients as [
      grid.WebsocketGridClient,
      grid.WebsocketGridClient,
      grid.WebsocketGridClient,
      grid.WebsocketGridClient,
    ];

    const p = tf.tensor([1, 2, 3]).send(alice);
    expect(Array.from((await p.add(p).mul(3).get()).dataSync())).toEqual([6, 12, 18]);

    const x = tf.tensor([
      [1.5, -2.25, 0],
      [3, -0.5, 7],
    ]);
    const w = tf.tensor([
      [0.5, -1],
      [2, 0.25],
      [-1.5, 1],
    ]);
    const share = (t: tf.Tensor) => t.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    const xs = share(x);
    const reveal = async (t: sy.TensorLike) => (await (t as sy.FixedPrecisionTensor).get()).floatPrecision();
    expect(maxDiff(await reveal(xs.mul(xs)), tf.mul(x, x))).toBeLessThan(1e-3);
    expect(maxDiff(await reveal(xs.matmul(share(w))), tf.matMul(x, w))).toBeLessThan(1e-3);
    expect(maxDiff(await reveal(xs.relu()), tf.relu(x))).toBe(0);
    expect(maxDiff(await reveal(xs.lt(0.5)), tf.less(x, 0.5))).toBe(0);
    expect(maxDiff(await reveal(xs.argmax(1)), tf.argMax(x, 1))).toBe(0);

    // SIGKILL charlie's process in the middle of a long relu: the get() fails fast, naming charlie.
    const big = tf.randomNormal([300_000]);
    await sy.withConfig({ timeoutMs: 15_000 }, async () => {
      const bigShared = share(big);
      await bigShared.add(0).get(); // the shares have arrived: what follows is the protocol alone
      const started = Date.now();
      const pending = bigShared
        .relu()
        .get()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      await new Promise((r) => setTimeout(r, 300));
      process.kill(local.node("charlie").pid!, "SIGKILL");
      const error = await pending;
      expect(error).toBeInstanceOf(sy.TsyftError);
      expect((error as Error).message).toMatch(/charlie/);
      expect(Date.now() - started).toBeLessThan(15_000);
    });
    expect(await bob.ping()).toBe("bob");

    const pids = members.map((m) => m.pid!);
    await local.stop();
    await eventually(() => pids.every((pid) => !isAlive(pid)), 15_000, "children gone");
  });
});

describe("the CLI", () => {
  it("grid up --detach --ports random, grid status, grid down", async () => {
    const state = tempDir("cli");
    cleanups.push(() => state.remove());
    const stateDir = path.join(state.dir, "grid");
    cleanups.push(() => grid.stopDetachedGrid(stateDir)); // if the test fails half-way

    const up = await runCli(["grid", "up", "--detach", "--ports", "random", "--state-dir", stateDir]);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/gateway[\s\S]*alice[\s\S]*bob[\s\S]*charlie[\s\S]*dan/);
    // The admin token is printed once and kept in credentials.json (0600).
    const credentials = grid.readGridCredentials(stateDir)!;
    expect(up.stdout).toContain(`Admin token (shown once; kept in ${path.join(stateDir, "credentials.json")}`);
    expect(up.stdout).toContain(credentials.adminToken);
    expect(fs.statSync(path.join(stateDir, "credentials.json")).mode & 0o777).toBe(0o600);
    const recorded = grid.readGridState(stateDir)!;
    expect(recorded.nodes.map((n) => n.id)).toEqual(["alice", "bob", "charlie", "dan"]);
    const members = [recorded.gateway, ...recorded.nodes];
    await expectAllHealthy(members);

    const again = await runCli(["grid", "up", "--detach", "--ports", "random", "--state-dir", stateDir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already recorded/);

    const status = await runCli(["grid", "status", "--state-dir", stateDir]);
    expect(status.code, status.stdout + status.stderr).toBe(0);
    for (const m of members) expect(status.stdout).toContain(m.url);
    expect(status.stdout).toContain(`Admin token in ${path.join(stateDir, "credentials.json")}`);

    const down = await runCli(["grid", "down", "--state-dir", stateDir]);
    expect(down.code, down.stderr).toBe(0);
    expect(members.every((m) => !isAlive(m.pid!))).toBe(true);
    expect(grid.readGridState(stateDir)).toBeUndefined();

    const statusAfter = await runCli(["grid", "status", "--state-dir", stateDir]);
    expect(statusAfter.code).toBe(1);
    expect((await runCli(["grid", "down", "--state-dir", stateDir])).code).toBe(1);
  });

  it("grid enroll and grid token use the grid's credentials; a node started by hand proves itself with them", async () => {
    const state = tempDir("enroll");
    cleanups.push(() => state.remove());
    const { gridKey } = grid.loadOrCreateGridCredentials(state.dir);
    const bobDir = path.join(state.dir, "bob");
    const enroll = await runCli(["grid", "enroll", "--id", "bob", "--data-dir", bobDir, "--state-dir", state.dir]);
    expect(enroll.code, enroll.stderr).toBe(0);
    expect(enroll.stdout).toContain(`--admin-key=${gridKey}`);
    const minted = await runCli(["grid", "token", "--subject", "ada", "--state-dir", state.dir]);
    expect(minted.code, minted.stderr).toBe(0);
    const token = minted.stdout.trim();
    expect(grid.clientKey(token)).toMatchObject({ kind: "user", body: { sub: "ada", grid: gridKey } });
    const nowhere = await runCli(["grid", "token", "--subject", "ada", "--state-dir", path.join(state.dir, "none")]);
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toMatch(/admin token/);

    // The node loads the identity enroll wrote (it is given only the grid key) and proves it is bob.
    const child = spawnCli(["node", "--id", "bob", "--port", "0", "--data-dir", bobDir, `--admin-key=${gridKey}`]);
    cleanups.push(() => stopChild(child));
    const info = await waitListening(child, "bob", 60_000);
    const bob = new grid.WebsocketGridClient(sy.hook(tf), info.url, { id: "bob", token });
    cleanups.push(() => bob.close());
    await bob.connect();
    expect(bob.verified).toBe(true);
  });

  it("usage errors exit 2 with the usage text", async () => {
    const result = await runCli(["node", "--port", "0"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--id is required[\s\S]*Usage:/);
    expect((await runCli(["frobnicate"])).code).toBe(2);
    expect((await runCli(["node", "--id", "bob", "--bogus"])).code).toBe(2);
  });

  it("servers listen on 127.0.0.1 unless told otherwise, and refuse an exposed address without credentials", async () => {
    for (const role of [["node", "--id", "bob"], ["gateway"]]) {
      const refused = await runCli([...role, "--port", "0", "--host", "0.0.0.0"]);
      expect(refused.code, role[0]).toBe(1);
      expect(refused.stderr, role[0]).toMatch(
        /refusing to listen on 0\.0\.0\.0, which other machines can reach, without credentials/,
      );
    }
    const halfTls = await runCli(["gateway", "--port", "0", "--tls-cert", "x.crt"]);
    expect(halfTls.code).toBe(2);
    expect(halfTls.stderr).toMatch(/--tls-cert and --tls-key go together/);
    const usage = await runCli(["help"]);
    expect(usage.stdout).toMatch(/Servers listen on 127\.0\.0\.1 unless --host says otherwise/);
  });
});

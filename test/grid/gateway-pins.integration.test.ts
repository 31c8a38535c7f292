// The gateway pins each node id to the key of its first join and moves it
// only to a newer certificate (a re-enrolled node). Proves the pins outlive
// the gateway process: a real `tsyft gateway` with a data dir, killed
// (SIGKILL) and started again on that dir, still refuses the older key of a
// node it knows, where a gateway that forgot would take whoever joined first.
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/core/errors";
import {
  createGridCredentials,
  generateKeyPair,
  issueCertificate,
  signMembership,
  type NodeKey,
} from "../../src/grid/auth";
import { httpJson } from "../../src/grid/http-util";
import { spawnCli, stopChild, waitListening } from "../../src/grid/processes";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** A `tsyft gateway` process on `dataDir` under `gridKey`; resolves with its url. */
async function gatewayProcess(dataDir: string, gridKey: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawnCli([
    "gateway",
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    `--admin-key=${gridKey}`,
    "--data-dir",
    dataDir,
  ]);
  cleanups.push(() => stopChild(child));
  const { url } = await waitListening(child, "gateway", 120_000);
  return { url, child };
}

/** A key for node `id` with a certificate issued now by the grid's admin. */
function enrolled(adminToken: string, id: string): NodeKey {
  const pair = generateKeyPair();
  return { pair, cert: issueCertificate(adminToken, { role: "node", sub: id, key: pair.publicKey }) };
}

/** POST /join signed by `key` for node `id`; resolves with the status and the error code, if any. */
async function join(gateway: string, key: NodeKey, id: string, address: string) {
  const { status, body } = await httpJson<{ error?: { code?: string; details?: { forbidden?: boolean } } }>(
    "POST",
    `${gateway}/join`,
    signMembership(key, "join", id, address),
  );
  return { status, code: body?.error?.code, forbidden: body?.error?.details?.forbidden };
}

/**
 * A grid, a data dir for its gateway, and node bob enrolled twice: `old`,
 * then `current` (a re-enrollment, with a strictly newer certificate).
 */
async function reenrolledBob() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-pins-"));
  cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const { adminToken, gridKey } = createGridCredentials();
  const old = enrolled(adminToken, "bob");
  // Certificates carry their issue time in milliseconds.
  await new Promise((resolve) => setTimeout(resolve, 5));
  return { dataDir, gridKey, old, current: enrolled(adminToken, "bob") };
}

describe("gateway pins", () => {
  it("a gateway killed and restarted on its data dir still refuses the older key of a re-enrolled node", async () => {
    const { dataDir, gridKey, old, current } = await reenrolledBob();
    const first = await gatewayProcess(dataDir, gridKey);
    expect((await join(first.url, current, "bob", "ws://127.0.0.1:3000")).status).toBe(200);
    const before = await join(first.url, old, "bob", "ws://127.0.0.1:6666");
    expect(before, "the older key, while the gateway remembers").toMatchObject({
      status: 403,
      code: ErrorCode.AUTH,
      forbidden: true,
    });

    first.child.kill("SIGKILL");
    await new Promise((resolve) => first.child.once("exit", resolve));
    const second = await gatewayProcess(dataDir, gridKey);
    const after = await join(second.url, old, "bob", "ws://127.0.0.1:6666");
    expect(after, "the older key, after the gateway restarted").toMatchObject({
      status: 403,
      code: ErrorCode.AUTH,
      forbidden: true,
    });
    const nodes = await httpJson<{ nodes: Array<{ id: string; address: string }> }>("GET", `${second.url}/nodes`);
    expect(nodes.body.nodes, "the impostor's address is not listed").toEqual([]);
    expect((await join(second.url, current, "bob", "ws://127.0.0.1:3000")).status, "the pinned key joins").toBe(200);
  }, 300_000);

  it("a gateway on a new data dir has no pins: the first key of this grid to join is pinned (why the pins persist)", async () => {
    const { dataDir, gridKey, old, current } = await reenrolledBob();
    const gateway = await gatewayProcess(dataDir, gridKey);
    expect((await join(gateway.url, old, "bob", "ws://127.0.0.1:6666")).status).toBe(200);
    // The newer certificate still moves the pin: a re-enrolled node takes its id back.
    expect((await join(gateway.url, current, "bob", "ws://127.0.0.1:3000")).status).toBe(200);
    expect((await join(gateway.url, old, "bob", "ws://127.0.0.1:6666")).status).toBe(403);
  }, 300_000);
});

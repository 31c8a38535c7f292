// PlacementCache against a real gateway (in process, port 0): answers that
// come are remembered and replace what was remembered, a gateway that says
// "no such model" is believed, and only while the gateway gives no answer do
// the remembered answers stand in for it (never for what it never said).
import { afterEach, describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/core/errors";
import * as grid from "../../src/grid";
import { signMembership, generateKeyPair, issueCertificate } from "../../src/grid/auth";
import { httpJson } from "../../src/grid/http-util";
import { PlacementCache } from "../../src/grid/placement-cache";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const TOY: grid.HostedModelInfo = {
  id: "toy",
  mpc: true,
  allowRemoteInference: true,
  allowDownload: false,
  nodes: { host: "alice", holders: ["bob", "charlie"], provider: "dan" },
};

async function gatewayWithToy() {
  const gateway = await grid.startGateway({ port: 0 });
  cleanups.push(() => gateway.close());
  const admin = new grid.GatewayClient(gateway.url, { token: gateway.adminToken });
  await admin.registerModel(TOY);
  const pair = generateKeyPair();
  const bob = { pair, cert: issueCertificate(gateway.adminToken!, { role: "node", sub: "bob", key: pair.publicKey }) };
  const joined = await httpJson(
    "POST",
    `${gateway.url}/join`,
    signMembership(bob, "join", "bob", "ws://127.0.0.1:3000"),
  );
  expect(joined.status).toBe(200);
  return { gateway, admin, placement: new PlacementCache(new grid.GatewayClient(gateway.url, { timeoutMs: 2_000 })) };
}

describe("PlacementCache", () => {
  it("while the gateway is down, answers what it said last: the model, the node's address, the grid key", async () => {
    const { gateway, placement } = await gatewayWithToy();
    const info = await placement.model("toy");
    expect(info).toMatchObject(TOY);
    expect(await placement.address("bob")).toBe("ws://127.0.0.1:3000");
    const gridKey = await placement.gridKey();
    expect(gridKey).toBe(gateway.gridKey);
    await gateway.close();
    expect(await placement.model("toy")).toEqual(info);
    expect(await placement.address("bob")).toBe("ws://127.0.0.1:3000");
    expect(await placement.gridKey()).toBe(gridKey);
    // What the gateway never said is not made up: no answer stays an error.
    await expect(placement.model("other")).rejects.toMatchObject({ code: ErrorCode.CONNECTION });
    await expect(placement.address("charlie")).rejects.toMatchObject({ code: ErrorCode.CONNECTION });
  });

  it("a gateway that answers is believed: a deleted model and a node gone are forgotten", async () => {
    const { gateway, admin, placement } = await gatewayWithToy();
    expect(await placement.model("toy")).toMatchObject(TOY);
    expect(await placement.address("bob")).toBe("ws://127.0.0.1:3000");
    expect(await admin.deleteModel("toy")).toBe(true);
    gateway.nodes.leave("bob");
    expect(await placement.model("toy")).toBeUndefined();
    expect(await placement.address("bob")).toBeUndefined();
    await gateway.close();
    await expect(placement.model("toy")).rejects.toMatchObject({ code: ErrorCode.CONNECTION });
    await expect(placement.address("bob")).rejects.toMatchObject({ code: ErrorCode.CONNECTION });
  });
});

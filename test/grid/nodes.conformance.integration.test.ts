// The secure-op conformance suite on grid nodes: the same cases as on
// VirtualWorkers, with each worker a GridNode behind a real WebSocket server
// (port 0) and the client holding WebsocketGridClients linked pairwise; once per
// kind of crypto provider and per comparison protocol (both travel in every
// command to the nodes).
import * as tf from "@tensorflow/tfjs";
import * as sy from "../../src";
import { COMPARISON_PROTOCOLS, PROVIDER_KINDS } from "../../src/core/config";
import * as grid from "../../src/grid";
import { secureOpsSuite, type SecureOpsFixture } from "../conformance/secure-ops.suite";

async function setup(): Promise<SecureOpsFixture> {
  const hook = sy.hook(tf);
  const { adminToken } = grid.createGridCredentials();
  const nodes = await Promise.all(
    ["alice", "bob", "charlie", "dan"].map((id) => grid.startNode({ id, port: 0, tf, adminToken })),
  );
  const clients = nodes.map((n) => new grid.WebsocketGridClient(hook, n.url, { id: n.id }));
  await grid.connectAllNodes(clients);
  const [alice, bob, charlie, dan] = clients;
  return {
    hook,
    alice: alice!,
    bob: bob!,
    charlie: charlie!,
    dan: dan!,
    async teardown() {
      await Promise.all(clients.map((c) => c.close()));
      await Promise.all(nodes.map((n) => n.close()));
    },
  };
}

for (const provider of PROVIDER_KINDS) {
  for (const comparison of COMPARISON_PROTOCOLS)
    secureOpsSuite("grid nodes over WebSockets", provider, setup, comparison);
}

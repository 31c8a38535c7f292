// The secure-op conformance suite on VirtualWorkers (in process, every message
// still encoded to bytes and delivered through the in-process network), once
// per kind of crypto provider and per comparison protocol.
import * as tf from "@tensorflow/tfjs";
import * as sy from "../../src";
import { COMPARISON_PROTOCOLS, PROVIDER_KINDS } from "../../src/core/config";
import { secureOpsSuite, type SecureOpsFixture } from "../conformance/secure-ops.suite";

async function setup(): Promise<SecureOpsFixture> {
  const hook = sy.hook(tf);
  const [alice, bob, charlie, dan] = ["alice", "bob", "charlie", "dan"].map((id) => new sy.VirtualWorker(hook, { id }));
  return {
    hook,
    alice: alice!,
    bob: bob!,
    charlie: charlie!,
    dan: dan!,
    async teardown() {
      for (const w of [alice!, bob!, charlie!, dan!]) {
        w.close("test done");
        w.network.unregister(w.id);
      }
    },
  };
}

for (const provider of PROVIDER_KINDS) {
  for (const comparison of COMPARISON_PROTOCOLS) secureOpsSuite("VirtualWorker", provider, setup, comparison);
}

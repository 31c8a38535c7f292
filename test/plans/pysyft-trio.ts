// The workers of PySyft's tutorials on models, `share(alice, bob, crypto_provider=james)`: two share holders and a
// crypto provider as VirtualWorkers on the cpu backend, made once per test file, with the two conversions the
// tests use around them.
import * as tf from "@tensorflow/tfjs";
import { beforeAll } from "vitest";
import * as sy from "../../src";

export interface PySyftTrio {
  alice: sy.VirtualWorker;
  bob: sy.VirtualWorker;
  james: sy.VirtualWorker;
}

/**
 * Registers a beforeAll that hooks tf and makes the workers; the returned object is filled in by then. `share`
 * gives a tensor in fixed point shared by alice and bob with james as the crypto provider; `decrypt` gets a
 * shared result back as floats.
 */
export function usePySyftTrio() {
  const trio = {} as PySyftTrio;
  beforeAll(async () => {
    await tf.setBackend("cpu");
    const hook = sy.hook(tf);
    const [alice, bob, james] = ["alice", "bob", "james"].map((id) => new sy.VirtualWorker(hook, { id }));
    Object.assign(trio, { alice, bob, james });
  });
  return {
    trio,
    share: (t: tf.Tensor) => t.fixPrecision().share(trio.alice, trio.bob, { cryptoProvider: trio.james }),
    decrypt: async (t: unknown) => (await (t as sy.FixedPrecisionTensor).get()).floatPrecision(),
  };
}

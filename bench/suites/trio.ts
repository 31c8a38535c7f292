/** The benches' in-process parties: bob and charlie hold the shares, dan deals. */
import * as sy from "../../src";

/** bob, charlie and dan as VirtualWorkers on `hook`. */
export function virtualTrio(hook: sy.Hook): [sy.VirtualWorker, sy.VirtualWorker, sy.VirtualWorker] {
  const make = (id: string) => new sy.VirtualWorker(hook, { id });
  return [make("bob"), make("charlie"), make("dan")];
}

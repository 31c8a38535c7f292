// A worker that gives up a run tells the other holders (an abort of the run's
// scope) so that they stop waiting. When a holder cannot be reached at that
// moment (it is restarting, and may already be running the same scope), the
// abort is kept and sent once the holder links again (Worker.peerBack), so the
// holder's run fails at once instead of at its timeout. Found by the holder
// restart tests: a fresh holder waited out its whole timeout for a peer that
// had failed the run before their link came up.
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { InProcessNetwork } from "../../src/workers/in-process";
import { Worker } from "../../src/workers/worker";

/** A holder that gives up a run the way a failing command does. */
class Holder extends Worker {
  giveUp(scope: string): void {
    this.abortPeers(["bob", "charlie"], scope, new Error("bob's share of the input is gone"));
  }
}

describe("aborts a worker could not deliver", () => {
  it("reach the peer when it links again, and fail its wait on that scope at once", async () => {
    const network = new InProcessNetwork();
    const bob = new Holder("bob", tf, network.transportFor("bob"));
    network.register(bob);
    const charlie = new Worker("charlie", tf, network.transportFor("charlie"));

    bob.giveUp("run-1"); // charlie is not on the network: the abort cannot be sent now
    network.register(charlie);
    // Not told yet: charlie's wait on bob in run-1 is still open (it ends only by its timeout).
    const early = await charlie.mailbox.recv("bob", "run-1/0:open", 50).then(
      () => "received",
      (error: { code?: string }) => error.code,
    );
    expect(early).toBe("TSYFT_ERR_TIMEOUT");

    bob.peerBack("charlie");
    await new Promise((resolve) => setTimeout(resolve, 0)); // in-process delivery is a microtask away
    // Aborted, not timed out: the wait fails with the abort's code and reason.
    await expect(charlie.mailbox.recv("bob", "run-1/1:open", 10_000)).rejects.toMatchObject({
      code: "TSYFT_ERR_PROTOCOL_ABORTED",
      message: expect.stringMatching(/bob aborted "run-1": bob failed: bob's share of the input is gone/),
    });

    // Told once: a later link-up sends nothing more, and other scopes are untouched.
    bob.peerBack("charlie");
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(charlie.mailbox.pending.buffered).toBe(0);
    const other = await charlie.mailbox.recv("bob", "run-2/0:open", 50).then(
      () => "received",
      (error: { code?: string }) => error.code,
    );
    expect(other).toBe("TSYFT_ERR_TIMEOUT");
    bob.close();
    charlie.close();
  });
});

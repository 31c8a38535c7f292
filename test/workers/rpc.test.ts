// The RPC layer every client link shares (src/workers/rpc.ts and the
// WorkerClient on top of it): a timeout names the worker and what was asked,
// a dropped link rejects every waiter at once, a late reply after a timeout
// is ignored, and ClientHandle forwards the worker API to a WorkerClient.
import { describe, expect, it } from "vitest";
import * as sy from "../../src";
import { CommunicationError, ErrorCode, WorkerError, serializeError } from "../../src/core/errors";
import { ClientHandle, WorkerClient } from "../../src/workers/client";
import { decodeRequest, encodeReply, type Request } from "../../src/workers/messages";
import { PendingCalls } from "../../src/workers/rpc";

async function rejection(promise: Promise<unknown>): Promise<sy.TsyftError> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: sy.TsyftError) => error,
  );
}

/** A WorkerClient whose requests are kept for the test to answer. */
function recordingClient(id = "bob"): { client: WorkerClient; sent: Request[] } {
  const sent: Request[] = [];
  const client = new WorkerClient(id, (bytes) => sent.push(decodeRequest(bytes)));
  return { client, sent };
}

describe("PendingCalls", () => {
  it("a call that gets no answer times out with TIMEOUT, naming the worker and what was asked", async () => {
    const calls = new PendingCalls("bob");
    const { promise } = calls.open("link to alice", 20);
    expect(calls.waiting).toBe(1);
    const error = await rejection(promise);
    expect(error).toBeInstanceOf(CommunicationError);
    expect(error.code).toBe(ErrorCode.TIMEOUT);
    expect(error.message).toBe(
      "No answer from bob to link to alice within 20 ms. Is it alive? (timeoutMs is configurable)",
    );
    expect(error.details).toMatchObject({ worker: "bob" });
    expect(calls.waiting).toBe(0);
  });

  it("settles each call by its rid, with a value or the error the other end sent", async () => {
    const calls = new PendingCalls("bob");
    const first = calls.open("status", 1_000);
    const second = calls.open("ping", 1_000);
    expect(second.rid).not.toBe(first.rid);
    const sent = new WorkerError(ErrorCode.OBJECT_NOT_FOUND, "Worker bob holds no object x.", { worker: "bob" });
    expect(calls.settle(second.rid, { ok: false, error: serializeError(sent) })).toBe(true);
    expect(calls.settle(first.rid, { ok: true, value: "bob" })).toBe(true);
    expect(await first.promise).toBe("bob");
    const error = await rejection(second.promise);
    expect(error).toBeInstanceOf(WorkerError);
    expect(error.code).toBe(ErrorCode.OBJECT_NOT_FOUND);
    expect(calls.waiting).toBe(0);
  });

  it("a result after the timeout is ignored: settle says no call was waiting", async () => {
    const calls = new PendingCalls("bob");
    const { rid, promise } = calls.open("status", 10);
    expect((await rejection(promise)).code).toBe(ErrorCode.TIMEOUT);
    expect(calls.settle(rid, { ok: true, value: "late" })).toBe(false);
    expect(calls.settle(999, { ok: true })).toBe(false);
  });

  it("failAll rejects every waiter, naming the worker, the reason and what each waited for", async () => {
    const calls = new PendingCalls("bob");
    const waits = ["status", "link to alice", "link to dan"].map((what) => calls.open(what, 60_000).promise);
    calls.failAll("the link closed");
    const errors = await Promise.all(waits.map(rejection));
    expect(errors.map((e) => e.code)).toEqual([ErrorCode.CONNECTION, ErrorCode.CONNECTION, ErrorCode.CONNECTION]);
    expect(errors.map((e) => e.message)).toEqual([
      "Lost the link to bob (the link closed) while waiting for status.",
      "Lost the link to bob (the link closed) while waiting for link to alice.",
      "Lost the link to bob (the link closed) while waiting for link to dan.",
    ]);
    expect(errors.every((e) => e.details.worker === "bob")).toBe(true);
    expect(calls.waiting).toBe(0);
  });

  it("failAll carries the code it is given (a message over the size limit)", async () => {
    const calls = new PendingCalls("bob");
    const { promise } = calls.open("status", 60_000);
    calls.failAll("too big", ErrorCode.MESSAGE_TOO_LARGE);
    expect((await rejection(promise)).code).toBe(ErrorCode.MESSAGE_TOO_LARGE);
  });

  it("fail rejects one call with the error that kept it from being sent", async () => {
    const calls = new PendingCalls("bob");
    const kept = calls.open("status", 60_000);
    const failed = calls.open("ping", 60_000);
    const cause = new Error("socket closed");
    calls.fail(failed.rid, cause);
    await expect(failed.promise).rejects.toBe(cause);
    expect(calls.waiting).toBe(1);
    calls.settle(kept.rid, { ok: true, value: 1 });
    expect(await kept.promise).toBe(1);
  });
});

describe("WorkerClient", () => {
  it("a request that times out names the worker and the object it fetched", async () => {
    const { client, sent } = recordingClient();
    const error = await rejection(client.call({ t: "fetch", id: "x1", remove: false }, 20));
    expect(sent).toEqual([{ t: "fetch", rid: 1, id: "x1", remove: false }]);
    expect(error.code).toBe(ErrorCode.TIMEOUT);
    expect(error.message).toBe(
      'No answer from bob to fetch of "x1" within 20 ms. Is it alive? (timeoutMs is configurable)',
    );
  });

  it("a late reply after the timeout is dropped; a late error is kept as unsolicited", async () => {
    const { client } = recordingClient();
    const first = client.call({ t: "ping" }, 10);
    const second = client.call({ t: "ping" }, 10);
    await Promise.all([rejection(first), rejection(second)]);
    client.receiveReply(encodeReply({ rid: 1, ok: true, value: "bob" }));
    expect(client.unsolicited).toEqual([]);
    const late = new CommunicationError(ErrorCode.MALFORMED_MESSAGE, "late and bad");
    client.receiveReply(encodeReply({ rid: 2, ok: false, error: serializeError(late) }));
    expect(client.unsolicited.map((e) => (e as sy.TsyftError).code)).toEqual([ErrorCode.MALFORMED_MESSAGE]);
  });

  it("failAll rejects every request in flight and leaves none waiting", async () => {
    const { client } = recordingClient();
    const waits = [client.ping(), client.listObjects(), client.fetch("x1", { remove: true })];
    expect(client.waiting).toBe(3);
    client.failAll("node stopped");
    const errors = await Promise.all(waits.map(rejection));
    expect(errors.map((e) => e.message)).toEqual([
      "Lost the link to bob (node stopped) while waiting for ping.",
      "Lost the link to bob (node stopped) while waiting for objects.",
      'Lost the link to bob (node stopped) while waiting for fetch of "x1".',
    ]);
    expect(client.waiting).toBe(0);
  });

  it("a request that cannot be sent fails at once with the sender's error", async () => {
    const cause = new CommunicationError(ErrorCode.CONNECTION, "no link");
    const client = new WorkerClient("bob", () => {
      throw cause;
    });
    await expect(client.ping()).rejects.toBe(cause);
    expect(client.waiting).toBe(0);
  });
});

describe("ClientHandle", () => {
  class LoopbackHandle extends ClientHandle(Object) {
    readonly id = "bob";
    readonly sent: Request[] = [];
    readonly rpc = new WorkerClient("bob", (bytes) => {
      const request = decodeRequest(bytes);
      this.sent.push(request);
      if ("rid" in request) queueMicrotask(() => this.rpc.receiveReply(encodeReply(this.answer(request))));
    });

    private answer(request: Request & { rid: number }) {
      const values: Partial<Record<Request["t"], unknown>> = {
        ping: "bob",
        objects: ["a", "b"],
        "fetch-plan": new Uint8Array([1, 2]),
      };
      return { rid: request.rid, ok: true as const, value: values[request.t] };
    }
  }

  it("forwards the worker API to its WorkerClient, one request per call", async () => {
    const handle = new LoopbackHandle();
    handle.release([]);
    handle.release(["a"]);
    handle.store("s", { kind: "tensor", value: { dtype: "float32", shape: [1], values: new Float32Array([1]) } });
    expect(await handle.ping()).toBe("bob");
    expect(await handle.listObjects()).toEqual(["a", "b"]);
    expect(await handle.objectCount()).toBe(2);
    await handle.clearObjects();
    await handle.storePlan("p", new Uint8Array([9]), { token: "t" });
    expect(await handle.fetchPlanBytes("p", { copy: true })).toEqual(new Uint8Array([1, 2]));
    expect(handle.sent.map((r) => r.t)).toEqual([
      "release",
      "store",
      "ping",
      "objects",
      "objects",
      "clear",
      "store-plan",
      "fetch-plan",
    ]);
    expect(handle.rpc.waiting).toBe(0);
  });

  it("VirtualWorker and WebsocketGridClient are both built on it", () => {
    const forwarded = (prototype: object) => Object.getOwnPropertyNames(Object.getPrototypeOf(prototype));
    const names = forwarded(sy.VirtualWorker.prototype);
    expect(names).toEqual(forwarded(sy.grid.WebsocketGridClient.prototype));
    expect(names).toEqual(expect.arrayContaining(["submit", "fetch", "storePlan", "fetchPlanBytes", "ping"]));
  });
});

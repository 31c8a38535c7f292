// Who may do what on a worker, every rule of the authorization design checked in process with the
// principals a node's sockets give: the admin, two users (ada, the owner of a model, and eve) and an
// anonymous client, each calling `worker.handleRequest(encodeRequest(...), caller)` as a socket would.
// Namespaces (someone else's id answers like a missing one), the object limit, anonymous callers,
// hosted plans' policies, use grants (the IR-swap attack) and dealer keys per group.
import * as tf from "@tensorflow/tfjs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as sy from "../../src";
import { decode, encode, type FixedPointEncoding } from "../../src/encoding/fixed-point";
import { share } from "../../src/mpc/sharing";
import { irHash } from "../../src/plans/ir-hash";
import type { PlanIR } from "../../src/plans/ir";
import * as ring from "../../src/ring";
import type { Command, InputRef } from "../../src/tensors/handle";
import { tensorData } from "../../src/tensors/hook";
import type { Caller } from "../../src/workers/caller";
import { decodeReply, encodeRequest, type Reply, type Request } from "../../src/workers/messages";
import { startParties, type Parties } from "../mpc/parties";

const ENC: FixedPointEncoding = { base: 2, precisionFractional: 16 };
const admin: Caller = { principal: { kind: "admin" }, session: "admin" };
const ada: Caller = { principal: { kind: "user", id: "user:ada" }, session: "ada" };
const eve: Caller = { principal: { kind: "user", id: "user:eve" }, session: "eve" };
const anon: Caller = { principal: { kind: "anonymous", id: "anon:0123456789abcdef" }, session: "anon" };

/** The linear toy: fc1 = [2, 4], bias = [1000]; [5, 3] gives [1022]. */
class Toy extends sy.Plan {
  fc1 = tf.tensor([2.0, 4.0]);
  bias = tf.tensor([1000.0]);
  override forward(x: sy.TensorLike) {
    return sy.F.matmul(this.fc1, x).add(this.bias);
  }
}

let p: Parties;
let worker: (id: string) => sy.Worker;
beforeEach(() => {
  p = startParties(["alice", "bob", "charlie", "dan"]);
  worker = (id) => p.workers.get(id)!;
});
afterEach(() => p.teardown());

/** Sends a request as `caller`; resolves with the reply, if the request has one. */
async function send(at: string, caller: Caller, request: Request): Promise<Reply | undefined> {
  const bytes = await worker(at).handleRequest(encodeRequest(request), caller);
  return bytes && decodeReply(bytes);
}

async function call(at: string, caller: Caller, request: Request): Promise<Reply> {
  const reply = await send(at, caller, request);
  if (!reply) throw new Error(`${request.t} got no reply`);
  return reply;
}

const fetchOf = (at: string, caller: Caller, id: string, remove = false) =>
  call(at, caller, { t: "fetch", rid: 1, id, remove });

/** The value of a successful reply; a refusal fails the test with its message. */
function valueOf(reply: Reply): unknown {
  if (!reply.ok) throw new Error(reply.error.message);
  return reply.value;
}

function codeOf(reply: Reply | undefined): string | undefined {
  return reply && !reply.ok ? reply.error.code : undefined;
}

function shareValue(reply: Reply): ring.RingTensor {
  if (!reply.ok) throw new Error(reply.error.message);
  return (reply.value as { value: ring.RingTensor }).value;
}

/** Stores two shares of `values` on bob and charlie as `caller`, under `id`. */
async function storeShared(caller: Caller, id: string, values: number[]): Promise<void> {
  const [a, b] = share(encode(values, [values.length], ENC), 2);
  await send("bob", caller, { t: "store", id, value: { kind: "share", value: a! } });
  await send("charlie", caller, { t: "store", id, value: { kind: "share", value: b! } });
}

/** What `caller` reconstructs of `id` from bob and charlie; throws the first refusal. */
async function revealed(caller: Caller, id: string): Promise<number[]> {
  const replies = await Promise.all(["bob", "charlie"].map((h) => fetchOf(h, caller, id, true)));
  for (const reply of replies) if (!reply.ok) throw Object.assign(new Error(reply.error.message), reply.error);
  return [...decode(ring.add(shareValue(replies[0]!), shareValue(replies[1]!)), ENC)];
}

/** `caller` submits `input + input` to bob as a shared-op (with charlie) or a plain-op, into `output`. */
async function submitAdd(
  caller: Caller,
  type: "shared-op" | "plain-op",
  input: InputRef,
  output: string,
): Promise<void> {
  const common = { op: "add" as const, inputs: [input, input], attrs: {}, output };
  const command: Command =
    type === "shared-op" ? { type, ...common, holders: ["bob", "charlie"], encoding: ENC } : { type, ...common };
  await send("bob", caller, { t: "submit", command });
}

let runs = 0;
/** `caller` runs `ir` on bob and charlie with its input [5, 3] and `state` naming these object ids. */
async function runAs(caller: Caller, ir: PlanIR, state: string[]): Promise<number[]> {
  const runId = `run-${++runs}`;
  await storeShared(caller, `${runId}-x`, [5, 3]);
  for (const holder of ["bob", "charlie"]) {
    await send(holder, caller, {
      t: "submit",
      command: {
        type: "run-plan",
        ir,
        inputs: [{ kind: "object", id: `${runId}-x` }],
        state: state.map((id) => ({ kind: "object", id })),
        outputs: [`${runId}-y`],
        runId,
        holders: ["bob", "charlie"],
        provider: "dan",
        encoding: ENC,
      },
    });
  }
  return revealed(caller, `${runId}-y`);
}

/** ada serves the toy: her weight shares on bob and charlie, granted for the toy's IR to anyone (or not). */
async function adaServesToy(anyone: boolean): Promise<PlanIR> {
  const toy = new Toy({ id: "toy" });
  await toy.build(tf.tensor([1, 2]));
  const ir = toy.serialize().ir;
  await storeShared(ada, "w-fc1", [2, 4]);
  await storeShared(ada, "w-bias", [1000]);
  const grant = { irHash: irHash(ir), stateIds: ["w-fc1", "w-bias"], anyone };
  for (const holder of ["bob", "charlie"])
    expect((await call(holder, ada, { t: "grant", rid: 2, grant })).ok).toBe(true);
  return ir;
}

describe("objects belong to their creator", () => {
  it("someone else's id is answered exactly like a missing one, and ids never collide", async () => {
    await storeShared(ada, "x", [7]);
    const theirs = await fetchOf("bob", eve, "x");
    const missing = await fetchOf("bob", eve, "never-used");
    expect(codeOf(theirs)).toBe(sy.ErrorCode.OBJECT_NOT_FOUND);
    expect(!theirs.ok && theirs.error.message.replace('"x"', "ID")).toBe(
      !missing.ok && missing.error.message.replace('"never-used"', "ID"),
    );
    // eve's own "x" is hers; ada's stays as it was.
    await storeShared(eve, "x", [-1]);
    expect((await revealed(eve, "x"))[0]).toBeCloseTo(-1, 3);
    expect((await revealed(ada, "x"))[0]).toBeCloseTo(7, 3);
  });

  it("objects, release and clear act on the caller's objects; the admin's clear on everyone's", async () => {
    await storeShared(ada, "a1", [1]);
    await storeShared(ada, "a2", [2]);
    await storeShared(eve, "e1", [3]);
    expect(valueOf(await call("bob", ada, { t: "objects", rid: 1 }))).toEqual(["a1", "a2"]);
    expect(valueOf(await call("bob", eve, { t: "objects", rid: 1 }))).toEqual(["e1"]);
    await send("bob", eve, { t: "release", ids: ["a1", "e1"] });
    expect(valueOf(await call("bob", ada, { t: "objects", rid: 1 }))).toEqual(["a1", "a2"]);
    expect(valueOf(await call("bob", eve, { t: "objects", rid: 1 }))).toEqual([]);
    await storeShared(eve, "e2", [4]);
    expect((await call("bob", eve, { t: "clear", rid: 1 })).ok).toBe(true);
    expect(worker("bob").objects.list("user:ada")).toEqual(["a1", "a2"]);
    expect((await call("bob", admin, { t: "clear", rid: 1 })).ok).toBe(true);
    expect(worker("bob").objects.count).toBe(0);
  });

  it("commands read only the caller's objects: a shared-op or plain-op on ada's ids by eve finds nothing", async () => {
    await storeShared(ada, "w", [2, 4]);
    await send("bob", ada, { t: "store", id: "t", value: { kind: "tensor", value: tensorData(tf.tensor([1, 2])) } });
    await submitAdd(eve, "shared-op", { kind: "object", id: "w" }, "stolen");
    await submitAdd(eve, "plain-op", { kind: "object", id: "t" }, "p");
    for (const id of ["stolen", "p"]) {
      const reply = await fetchOf("bob", eve, id);
      expect(!reply.ok && reply.error.details?.cause).toBe(sy.ErrorCode.OBJECT_NOT_FOUND);
    }
  });

  it("a new object over maxObjectsPerClient is refused (TSYFT_ERR_LIMIT), counted per principal", async () => {
    await sy.withConfig({ maxObjectsPerClient: 2 }, async () => {
      for (const id of ["o1", "o2", "o3"]) await storeShared(eve, id, [1]);
      expect(codeOf(await fetchOf("bob", eve, "o3"))).toBe(sy.ErrorCode.OBJECT_NOT_FOUND); // no room for its failure
      expect(valueOf(await call("bob", eve, { t: "objects", rid: 1 }))).toEqual(["o1", "o2"]);
      await storeShared(eve, "o1", [5]); // replacing one of hers is no new object
      expect((await revealed(eve, "o1"))[0]).toBeCloseTo(5, 3);
      await storeShared(ada, "a1", [1]); // ada has her own count
      expect((await revealed(ada, "a1"))[0]).toBeCloseTo(1, 3);
      await storeShared(eve, "o4", [1]);
      expect(valueOf(await call("bob", eve, { t: "objects", rid: 1 }))).toEqual(["o2", "o4"]);
    });
  });

  it("a limit hit by a command is reported under its output when there is room", async () => {
    await sy.withConfig({ maxObjectsPerClient: 1 }, async () => {
      await storeShared(eve, "o1", [1]);
      await submitAdd(eve, "plain-op", { kind: "plain", value: tensorData(tf.tensor([1])) }, "o1");
      const reply = await fetchOf("bob", eve, "o1");
      expect(reply.ok && (reply.value as { kind: string }).kind).toBe("tensor"); // replaced: not new
    });
  });
});

describe("anonymous callers may only query", () => {
  it("refuses objects, clear, tensors, plans, grants and ops with TSYFT_ERR_AUTH naming { token }", async () => {
    const grant = { irHash: "0".repeat(64), stateIds: ["w"], anyone: true };
    const toy = new Toy({ id: "anon-plan" });
    await toy.build(tf.tensor([1, 2]));
    const replies = [
      await call("bob", anon, { t: "objects", rid: 1 }),
      await call("bob", anon, { t: "clear", rid: 1 }),
      await call("bob", anon, { t: "grant", rid: 1, grant }),
      await call("alice", anon, { t: "store-plan", rid: 1, id: "anon-plan", plan: toy.toBytes() }),
    ];
    for (const reply of replies) {
      expect(codeOf(reply)).toBe(sy.ErrorCode.AUTH);
      expect(!reply.ok && reply.error.message).toMatch(/pass \{ token \}/i);
    }
    await send("bob", anon, { t: "store", id: "t", value: { kind: "tensor", value: tensorData(tf.tensor([1])) } });
    expect(codeOf(await fetchOf("bob", anon, "t"))).toBe(sy.ErrorCode.REMOTE_OP_FAILED);
    const stored = await fetchOf("bob", anon, "t");
    expect(!stored.ok && stored.error.details?.cause).toBe(sy.ErrorCode.AUTH);
    await storeShared(anon, "x", [1]);
    await submitAdd(anon, "shared-op", { kind: "object", id: "x" }, "y");
    const op = await fetchOf("bob", anon, "y");
    expect(!op.ok && op.error.details?.cause).toBe(sy.ErrorCode.AUTH);
    // What a query needs stays open: its own shares, and ping.
    expect((await revealed(anon, "x"))[0]).toBeCloseTo(1, 3);
    expect(valueOf(await call("bob", anon, { t: "ping", rid: 1 }))).toBe("bob");
  });
});

describe("use grants: others run exactly the granted IR over an owner's weights", () => {
  it("anyone runs the granted toy; a swapped IR (return state[0]) is refused for an anonymous caller and a user", async () => {
    const ir = await adaServesToy(true);
    expect((await runAs(anon, ir, ["w-fc1", "w-bias"]))[0]).toBeCloseTo(1022, 2);
    expect((await runAs(eve, ir, ["w-fc1", "w-bias"]))[0]).toBeCloseTo(1022, 2);
    const swapped: PlanIR = { ...ir, outputs: [ir.inputs.length] }; // return state[0]: the weights
    expect(irHash(swapped)).not.toBe(irHash(ir));
    await expect(runAs(anon, swapped, ["w-fc1", "w-bias"])).rejects.toMatchObject({
      details: { cause: sy.ErrorCode.AUTH },
    });
    await expect(runAs(eve, swapped, ["w-fc1", "w-bias"])).rejects.toMatchObject({
      details: { cause: sy.ErrorCode.OBJECT_NOT_FOUND },
    });
    // The granted IR over other ids (only part of the weights) is no grant either.
    await expect(runAs(eve, ir, ["w-fc1", "w-fc1"])).rejects.toMatchObject({
      details: { cause: sy.ErrorCode.OBJECT_NOT_FOUND },
    });
    // The outputs were the callers': nothing of theirs was left in ada's namespace.
    expect(
      worker("bob")
        .objects.list("user:ada")
        .filter((id) => id.startsWith("run-")),
    ).toEqual([]);
  });

  it("a grant to the owner only lets nobody else run it, and the same ids in eve's namespace are eve's", async () => {
    const ir = await adaServesToy(false);
    expect((await runAs(ada, ir, ["w-fc1", "w-bias"]))[0]).toBeCloseTo(1022, 2);
    await expect(runAs(eve, ir, ["w-fc1", "w-bias"])).rejects.toMatchObject({
      details: { cause: sy.ErrorCode.OBJECT_NOT_FOUND },
    });
    // eve's own objects named like ada's weights are used as hers, and her masks are not ada's.
    await storeShared(eve, "w-fc1", [1, 1]);
    await storeShared(eve, "w-bias", [0]);
    expect((await runAs(eve, ir, ["w-fc1", "w-bias"]))[0]).toBeCloseTo(8, 2);
    expect((await runAs(ada, ir, ["w-fc1", "w-bias"]))[0]).toBeCloseTo(1022, 2);
  });

  it("a malformed grant is refused", async () => {
    const reply = await call("bob", ada, { t: "grant", rid: 1, grant: { irHash: "x", stateIds: [], anyone: true } });
    expect(codeOf(reply)).toBe(sy.ErrorCode.MALFORMED_MESSAGE);
  });
});

describe("hosted plans carry their owner's policy", () => {
  async function planBytes(id: string, mpc: boolean): Promise<Uint8Array> {
    const toy = new Toy({ id });
    await toy.build(tf.tensor([1, 2]));
    if (!mpc) return toy.toBytes();
    return sy.planToBytes({
      ...toy.serialize(),
      state: toy.serialize().state.map((s, i) => ({
        kind: "shared" as const,
        name: s.name,
        encoding: ENC,
        id: `w${i}`,
        shape: [i === 0 ? 2 : 1],
        holders: ["bob", "charlie"],
        provider: "dan",
      })),
    });
  }

  const store = (
    caller: Caller,
    id: string,
    bytes: Uint8Array,
    more: Partial<Extract<Request, { t: "store-plan" }>> = {},
  ) => call("alice", caller, { t: "store-plan", rid: 1, id, plan: bytes, ...more });
  const fetchPlan = (caller: Caller, id: string, copy: boolean, token?: string) =>
    call("alice", caller, { t: "fetch-plan", rid: 1, id, copy, ...(token !== undefined && { token }) });

  it("only admins and users store plans; another owner's plan is overwritten only with its owner token or by the admin", async () => {
    const ownerToken = "tsyft-owner.secret";
    const policy = { allowRemoteInference: true, allowDownload: false, ownerTokenHash: sy.ownerTokenHash(ownerToken) };
    expect((await store(ada, "toy", await planBytes("toy", false), { token: "s3cret", policy })).ok).toBe(true);
    expect(codeOf(await store(anon, "toy", await planBytes("toy", false)))).toBe(sy.ErrorCode.AUTH);
    expect(codeOf(await store(eve, "toy", await planBytes("toy", false)))).toBe(sy.ErrorCode.AUTH);
    expect(codeOf(await fetchPlan(ada, "toy", true))).toBe(sy.ErrorCode.AUTH); // the token survived the attempts
    expect((await fetchPlan(ada, "toy", true, "s3cret")).ok).toBe(true);
    expect((await store(eve, "toy", await planBytes("toy", false), { ownerToken, policy })).ok).toBe(true);
    expect((await fetchPlan(eve, "toy", true)).ok).toBe(true); // eve's now (and without a token)
    expect((await store(admin, "toy", await planBytes("toy", false))).ok).toBe(true);
    expect(codeOf(await fetchPlan(eve, "toy", true))).toBe(sy.ErrorCode.AUTH);
  });

  it("plaintext plan bytes go to others only with allowDownload, copies of them only before the first fetch", async () => {
    await store(ada, "private", await planBytes("private", false), {
      policy: { allowRemoteInference: false, allowDownload: false },
    });
    await store(ada, "inference", await planBytes("inference", false), {
      policy: { allowRemoteInference: true, allowDownload: false },
    });
    await store(ada, "download", await planBytes("download", false), {
      policy: { allowRemoteInference: false, allowDownload: true },
    });
    for (const id of ["private", "inference"])
      for (const who of [eve, anon])
        for (const copy of [true, false]) expect(codeOf(await fetchPlan(who, id, copy))).toBe(sy.ErrorCode.AUTH);
    expect(codeOf(await fetchPlan(eve, "download", true))).toBe(sy.ErrorCode.AUTH); // copies are the owner's
    expect((await fetchPlan(eve, "download", false)).ok).toBe(true);
    expect(codeOf(await fetchPlan(eve, "download", false))).toBe(sy.ErrorCode.PLAN_ALREADY_FETCHED);
    expect(codeOf(await fetchPlan(anon, "download", true))).toBe(sy.ErrorCode.AUTH);
    // The owner and the admin still get copies.
    for (const id of ["private", "inference", "download"]) {
      expect((await fetchPlan(ada, id, true)).ok).toBe(true);
      expect((await fetchPlan(admin, id, true)).ok).toBe(true);
    }
  });

  it("an encrypted plan's copy goes to anyone who may run it, not otherwise", async () => {
    await store(ada, "mpc-open", await planBytes("mpc-open", true), {
      policy: { allowRemoteInference: true, allowDownload: false },
    });
    await store(ada, "mpc-closed", await planBytes("mpc-closed", true), {
      policy: { allowRemoteInference: false, allowDownload: false },
    });
    expect((await fetchPlan(anon, "mpc-open", true)).ok).toBe(true);
    expect((await fetchPlan(eve, "mpc-open", true)).ok).toBe(true);
    expect(codeOf(await fetchPlan(anon, "mpc-open", false))).toBe(sy.ErrorCode.AUTH);
    for (const who of [eve, anon])
      for (const copy of [true, false])
        expect(codeOf(await fetchPlan(who, "mpc-closed", copy))).toBe(sy.ErrorCode.AUTH);
  });

  it("run-hosted-plan: the caller's input in, its output in its own namespace; refused without allowRemoteInference", async () => {
    await store(ada, "inference", await planBytes("inference", false), {
      policy: { allowRemoteInference: true, allowDownload: false },
    });
    await store(ada, "private", await planBytes("private", false));
    const run = async (caller: Caller, planId: string, output: string) => {
      await send("alice", caller, {
        t: "submit",
        command: {
          type: "run-hosted-plan",
          planId,
          inputs: [{ kind: "plain", value: tensorData(tf.tensor([5, 3])) }],
          outputs: [output],
        },
      });
      return fetchOf("alice", caller, output, true);
    };
    const answered = await run(anon, "inference", "y");
    expect(answered.ok && Array.from((answered.value as { value: { values: Float32Array } }).value.values)).toEqual([
      1022,
    ]);
    const refused = await run(eve, "private", "z");
    expect(!refused.ok && refused.error.details?.cause).toBe(sy.ErrorCode.AUTH);
    expect(worker("alice").objects.list("user:ada").sort()).toEqual(["inference", "private"]);
  });

  it("release with the owner token frees the plan and the granted shares; the admin's release frees any plan", async () => {
    const ownerToken = "tsyft-owner.t0ken";
    await store(ada, "toy", await planBytes("toy", false), {
      policy: { allowRemoteInference: true, allowDownload: false, ownerTokenHash: sy.ownerTokenHash(ownerToken) },
    });
    await storeShared(ada, "w-fc1", [2, 4]);
    const grant = {
      irHash: "a".repeat(64),
      stateIds: ["w-fc1"],
      anyone: true,
      ownerTokenHash: sy.ownerTokenHash(ownerToken),
    };
    await call("bob", ada, { t: "grant", rid: 1, grant });
    await send("alice", eve, { t: "release", ids: ["toy"] });
    await send("bob", eve, { t: "release", ids: ["w-fc1"], ownerToken: "tsyft-owner.wrong" });
    expect(worker("alice").objects.list("user:ada")).toEqual(["toy"]);
    expect(worker("bob").objects.countOf("user:ada")).toBe(2);
    await send("alice", eve, { t: "release", ids: ["toy"], ownerToken });
    await send("bob", eve, { t: "release", ids: ["w-fc1"], ownerToken });
    expect(worker("alice").objects.countOf("user:ada")).toBe(0);
    expect(worker("bob").objects.countOf("user:ada")).toBe(0);
    await store(ada, "again", await planBytes("again", false));
    await send("alice", admin, { t: "release", ids: ["again"] });
    expect(worker("alice").objects.count).toBe(0);
  });
});

// Issue 10, "Anyone can take the secrets", at the nodes: an outsider with a
// raw WebSocket lists and fetches the holders' shares, runs its own plan over
// the weights' shares, claims to be a node to get dealer keys or protocol
// frames, and makes a node dial where it likes. Each attack must be refused
// with a typed error, leave the weights [2, 4], [1000] and the users' [5, 3]
// unreconstructible, and leave the toy answering [1022].
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as sy from "../../../src";
import {
  adminKeyPair,
  createGridCredentials,
  generateKeyPair,
  issueCertificate,
  issueUserToken,
  clientKey,
} from "../../../src/grid/auth";
import { RingTensor } from "../../../src/ring";
import {
  RawNodeSocket,
  reconstructed,
  shareIn,
  shareOf,
  startFakeNode,
  type FakeNode,
  type TakenShare,
} from "./attacker";
import {
  SECRETS,
  userSocket,
  anonymousSocket,
  expectPromiseKept,
  outsiderSweep,
  runPlanAsOutsider,
  expectAnswerKept,
  sweepAfterAttacks,
  useToyGrid,
  type ToyGrid,
} from "./toy-grid";

let g: ToyGrid;
useToyGrid((grid) => (g = grid));

describe("credentials exist", () => {
  it("startLocalGrid's handle carries the grid's adminToken and gridKey", () => {
    expect(g.credentials.fromHandle, "grid.adminToken and grid.gridKey on the startLocalGrid handle").toBe(true);
  });
});

describe("objects and fetch on the holders without a grid identity (issue: add bob's and charlie's shares mod 2^64)", () => {
  it("a socket that never said hello is refused everything but ping", async () => {
    const taken: Record<string, TakenShare[]> = { bob: [], charlie: [] };
    for (const holder of ["bob", "charlie"] as const) {
      const socket = await RawNodeSocket.open(g.nodes[holder].url);
      const listed = await socket.call({ t: "objects" });
      const ids = listed?.ok ? (listed.value as string[]) : [...g.weightIds];
      for (const id of ids) {
        const value = shareIn(await socket.call({ t: "fetch", id, remove: false }));
        if (value) taken[holder]!.push({ holder, id, value });
      }
      expect
        .soft(listed?.ok === false && listed.error.code, `objects without hello on ${holder}`)
        .toBe(sy.ErrorCode.AUTH);
    }
    expect(reconstructed(taken.bob!, taken.charlie!, SECRETS), "secrets taken without a hello").toEqual([]);
    await expectAnswerKept(g);
  });

  it("a user certificate forged with the attacker's own admin key makes nobody the owner", async () => {
    const forged = clientKey(issueUserToken(createGridCredentials().adminToken, { subject: "owner" }));
    if (forged.kind !== "user") throw new Error("a user token makes a user key");
    const taken: Record<string, TakenShare[]> = { bob: [], charlie: [] };
    for (const holder of ["bob", "charlie"] as const) {
      const socket = await RawNodeSocket.open(g.nodes[holder].url);
      await socket.hello({ role: "client", expect: holder, key: forged.pair, cert: forged.cert });
      const listed = await socket.call({ t: "objects" });
      const ids = new Set([...g.weightIds, ...(listed?.ok ? (listed.value as string[]) : [])]);
      for (const id of ids) {
        const value = shareIn(await socket.call({ t: "fetch", id, remove: false }));
        if (value) taken[holder]!.push({ holder, id, value });
      }
    }
    expect(reconstructed(taken.bob!, taken.charlie!, SECRETS), "secrets taken with a forged certificate").toEqual([]);
    await expectAnswerKept(g);
  });
});

describe("objects and fetch of others' objects on the holders (issue: add bob's and charlie's shares mod 2^64)", () => {
  it("an anonymous client may not list objects, and fetching the weights' ids answers 'not found'", async () => {
    // The issue's probe first: whatever the holders hand out, nothing may add up to a secret.
    expect(await outsiderSweep(g), "secrets reconstructed from bob's and charlie's shares").toEqual([]);
    for (const holder of ["bob", "charlie"] as const) {
      const socket = await anonymousSocket(g.nodes[holder]);
      const listed = await socket.call({ t: "objects" });
      expect.soft(listed?.ok === false && listed.error.code, `objects on ${holder}`).toBe(sy.ErrorCode.AUTH);
      for (const id of g.weightIds) {
        const fetched = await socket.call({ t: "fetch", id, remove: false });
        expect
          .soft(fetched?.ok === false && fetched.error.code, `fetch ${id} on ${holder}`)
          .toBe(sy.ErrorCode.OBJECT_NOT_FOUND);
      }
    }
    await expectPromiseKept(g);
  });

  it("another user of the grid sees only its own objects: none of the owner's weights, none of the users' inputs", async () => {
    const taken: Record<string, TakenShare[]> = { bob: [], charlie: [] };
    for (const holder of ["bob", "charlie"] as const) {
      const socket = await userSocket(g, g.nodes[holder], "mallory");
      const listed = await socket.call({ t: "objects" });
      expect.soft(listed?.ok && listed.value, `mallory's objects on ${holder}`).toEqual([]);
      const ids = new Set([...g.weightIds, ...(listed?.ok ? (listed.value as string[]) : [])]);
      for (const id of ids) {
        const fetched = await socket.call({ t: "fetch", id, remove: false });
        const value = shareIn(fetched);
        if (value) taken[holder]!.push({ holder, id, value });
        if (g.weightIds.includes(id)) {
          expect
            .soft(fetched?.ok === false && fetched.error.code, `fetch ${id} on ${holder}`)
            .toBe(sy.ErrorCode.OBJECT_NOT_FOUND);
        }
      }
    }
    expect(reconstructed(taken.bob!, taken.charlie!, SECRETS), "secrets another user reconstructed").toEqual([]);
    await expectPromiseKept(g);
  });
});

describe("running one's own plan over the weights' shares", () => {
  it("a run-plan that returns state + 0 is refused: the weights' shares stay on the holders, unreconstructible", async () => {
    // The plan the attacker runs: out = x + state[0], with x the attacker's own shares of zeros.
    const ir = {
      inputs: [{ name: "x", shape: [2] }],
      state: [{ name: "w", shape: [2] }],
      constants: [],
      ops: [{ op: "add", inputs: [{ v: 0 }, { v: 1 }], attrs: {}, output: 2, shape: [2] }],
      outputs: [2],
    };
    const fc1 = g.plan.state.find((s) => s.kind === "shared" && s.shape.length === 1 && s.shape[0] === 2);
    if (fc1?.kind !== "shared") throw new Error("the toy's plan names its fc1 shares");
    const { replies, taken } = await runPlanAsOutsider(g, {
      ir,
      state: [{ kind: "object", id: fc1.id }],
      input: shareOf([0, 0]),
      encoding: fc1.encoding,
    });
    replies.forEach((reply, i) => expect.soft(reply?.ok, `the attacker's run over fc1 on holder ${i}`).toBe(false));
    expect(reconstructed(taken.bob, taken.charlie, SECRETS), "weights read through the attacker's plan").toEqual([]);
    await expectPromiseKept(g);
  });
});

describe("claiming to be a node (issue: a peer hello claiming to be bob, to dan)", () => {
  const malloryCert = () => {
    const key = generateKeyPair();
    return {
      key,
      cert: issueCertificate(g.credentials.adminToken, { role: "node", sub: "mallory", key: key.publicKey }),
    };
  };
  const userCert = (sub: string) => {
    const key = generateKeyPair();
    return { key, cert: issueCertificate(g.credentials.adminToken, { role: "user", sub, key: key.publicKey }) };
  };

  const impostors: Array<[string, () => Parameters<RawNodeSocket["hello"]>[0]]> = [
    ["a bare hello (no proof)", () => ({ role: "peer", expect: "dan", from: "bob", sign: false })],
    [
      "signed with the attacker's own key, no certificate",
      () => ({ role: "peer", expect: "dan", from: "bob", key: generateKeyPair() }),
    ],
    [
      "with a user certificate for the name bob",
      () => ({ role: "peer", expect: "dan", from: "bob", ...userCert("bob") }),
    ],
    [
      "with mallory's node certificate, claiming bob",
      () => ({ role: "peer", expect: "dan", from: "bob", ...malloryCert() }),
    ],
    [
      "with a node certificate for bob from another grid",
      () => {
        const key = generateKeyPair();
        const other = createGridCredentials();
        return {
          role: "peer",
          expect: "dan",
          from: "bob",
          key,
          cert: issueCertificate(other.adminToken, { role: "node", sub: "bob", key: key.publicKey }),
        };
      },
    ],
  ];

  for (const [what, claims] of impostors) {
    it(`dan refuses a peer hello as bob ${what} (TSYFT_ERR_AUTH, close 4003) and deals no key to it`, async () => {
      const socket = await RawNodeSocket.open(g.nodes.dan.url);
      const outcome = await socket.hello(claims());
      // Whatever dan said, ask for bob's key as the issue's probe did.
      socket.peer({ kind: "request", from: "bob", tag: "key-bob-0/key", tensors: [], meta: { type: "key" } });
      socket.peer({
        kind: "request",
        from: "bob",
        tag: "key-bob-1/key",
        tensors: [],
        meta: { type: "key", holders: ["bob", "charlie"] },
      });
      const closed = await socket.waitClosed(5_000);
      const keys = socket.peerFrames().filter((f) => (f.meta as { key?: unknown } | undefined)?.key !== undefined);
      expect(keys.length, "dealer keys handed to the impostor").toBe(0);
      expect.soft(outcome.kind, "dan's answer to the hello").toBe("refused");
      if (outcome.kind === "refused") expect.soft(outcome.error.code).toBe(sy.ErrorCode.AUTH);
      expect.soft(closed?.code, "dan closes the impostor's socket").toBe(4003);
      await expectAnswerKept(g);
    });
  }

  it("a peer hello claiming charlie, to bob, during a user's query: refused; no protocol frame reaches the attacker", async () => {
    const socket = await RawNodeSocket.open(g.nodes.bob.url);
    const outcome = await socket.hello({ role: "peer", expect: "bob", from: "charlie", key: generateKeyPair() });
    const answer = await g.query().catch((e: unknown) => e);
    expect(socket.peerFrames().length, "protocol frames bob sent to the impostor").toBe(0);
    expect(Array.isArray(answer) ? answer[0] : answer, "the user's answer").toBeCloseTo(1022, 2);
    expect.soft(outcome.kind, "bob's answer to the hello").toBe("refused");
    socket.close();
    await expectAnswerKept(g);
  });
});

describe("link: a node dials where it is told (issue: SSRF)", () => {
  let target: FakeNode;

  beforeAll(async () => {
    // The attacker's server: counts every connection a node opens to it.
    target = await startFakeNode("eve");
  });

  afterAll(() => target?.close());

  const settle = () => new Promise((r) => setTimeout(r, 500));

  it("an anonymous client's link is refused (TSYFT_ERR_AUTH) and the node opens no connection", async () => {
    const socket = await anonymousSocket(g.nodes.bob);
    const before = target.connections;
    const result = await socket.controlCall({ t: "link", id: "eve", url: target.url }, 5_000);
    await settle();
    expect(target.connections - before, "connections bob opened to the attacker's url").toBe(0);
    expect(result?.ok, "the link answer").toBe(false);
    expect((result?.error as { code?: string } | undefined)?.code).toBe(sy.ErrorCode.AUTH);
  });

  it("a user's link is refused too", async () => {
    const socket = await userSocket(g, g.nodes.charlie, "mallory");
    const before = target.connections;
    const result = await socket.controlCall({ t: "link", id: "eve", url: target.url }, 5_000);
    await settle();
    expect(target.connections - before, "connections charlie opened to the attacker's url").toBe(0);
    expect(result?.ok).toBe(false);
    expect((result?.error as { code?: string } | undefined)?.code).toBe(sy.ErrorCode.AUTH);
  });

  it("even the admin may link a node only to the address the gateway lists for that id", async () => {
    const admin = adminKeyPair(g.credentials.adminToken);
    const socket = await RawNodeSocket.open(g.nodes.alice.url);
    expect((await socket.hello({ role: "client", expect: "alice", key: admin })).kind).toBe("welcome");
    for (const id of ["eve", "bob"]) {
      const before = target.connections;
      const result = await socket.controlCall({ t: "link", id, url: target.url }, 5_000);
      await settle();
      expect(target.connections - before, `connections alice opened for a link to ${id} at the attacker's url`).toBe(0);
      expect(result?.ok, `link ${id}`).toBe(false);
    }
    await expectAnswerKept(g);
  });
});

describe("the attacker's own shares stay usable (the defences do not break anonymous use)", () => {
  it("an anonymous client stores shares, fetches them back and releases them", async () => {
    const [a, b] = shareOf([7, -1]);
    const taken: TakenShare[] = [];
    for (const [holder, share] of [
      ["bob", a],
      ["charlie", b],
    ] as const) {
      const socket = await anonymousSocket(g.nodes[holder]);
      socket.request({ t: "store", id: "mine", value: { kind: "share", value: share } });
      const value = shareIn(await socket.call({ t: "fetch", id: "mine", remove: true }));
      expect(value, `own share back from ${holder}`).toBeInstanceOf(RingTensor);
      if (value) taken.push({ holder, id: "mine", value });
    }
    expect(reconstructed([taken[0]!], [taken[1]!], { mine: [7, -1] })).toHaveLength(1);
  });
});

sweepAfterAttacks(() => g);

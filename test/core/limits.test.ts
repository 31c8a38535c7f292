// The limit checks without sockets: the id rule, nesting depth, the limit
// error's shape, the settings' validation, the mailbox buffer on a fake
// clock, the dealer's and the op output's checks, and where the CLI may listen.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import * as sy from "../../src";
import { LIMIT_SETTINGS } from "../../src/core/config";
import { MAX_ID_LENGTH, checkId, idProblem, isValidId } from "../../src/core/ids";
import { checkNesting, checkObjectsPerClient, limitError } from "../../src/core/limits";
import { checkExposure, configuredCredentials, isLoopbackHost } from "../../src/grid/exposure";
import { MailboxBuffer } from "../../src/mpc/mailbox-buffer";
import { checkMaterialRequest, materialElements } from "../../src/mpc/provider/limits";
import type { MaterialSpec } from "../../src/mpc/provider/provider";
import * as ring from "../../src/ring";
import { checkOpOutput } from "../../src/tensors/plain-ops";

describe("ids", () => {
  it("accepts plain ids up to 128 characters and refuses the rest, saying why", () => {
    for (const id of ["bob", "convnet-plain", "a1b2c3d4-1z", "user:ada", "v1.2_x", "x".repeat(MAX_ID_LENGTH)])
      expect(isValidId(id), id).toBe(true);
    const refused: Array<[unknown, RegExp]> = [
      ["", /empty/],
      ["x".repeat(MAX_ID_LENGTH + 1), /129 characters/],
      ["..", /".."/],
      ["a..b", /".."/],
      [".", /reserved/],
      ["__proto__", /reserved/],
      ["constructor", /reserved/],
      ["prototype", /reserved/],
      ["a\u0000b", /characters outside/],
      ["a/b", /characters outside/],
      ["a b", /characters outside/],
      ["é", /characters outside/],
      [42, /not a string/],
      [null, /not a string/],
      [["bob"], /not a string/],
    ];
    for (const [id, why] of refused) expect(idProblem(id), JSON.stringify(id)).toMatch(why);
  });

  it("checkId throws INVALID_ID (or the code asked for) naming what the id is, with a short quote", () => {
    expect(checkId("bob", "node id")).toBe("bob");
    const error = (() => {
      try {
        checkId("z".repeat(100_000), "model id", sy.ErrorCode.INVALID_ID, { rid: 3 });
      } catch (e) {
        return e as sy.TsyftError;
      }
    })()!;
    expect(error).toMatchObject({ code: sy.ErrorCode.INVALID_ID, details: { what: "model id", rid: 3 } });
    expect(error.message).toMatch(/model id of 1-128 characters.*\(100000 characters\)/);
    expect(error.message.length).toBeLessThan(400);
    expect(() => checkId("a b", "node id", sy.ErrorCode.WORKER_ID)).toThrow(
      expect.objectContaining({ code: sy.ErrorCode.WORKER_ID }),
    );
  });
});

describe("nesting depth", () => {
  it("counts arrays and plain objects, not typed arrays; throws MALFORMED_MESSAGE past the depth without recursing", () => {
    checkNesting({ a: [1, [2, { b: new Float32Array(3) }]] }, 4, "x");
    expect(() => checkNesting({ a: [1, [2, { b: [] }]] }, 4, "x")).toThrow(
      expect.objectContaining({ code: sy.ErrorCode.MALFORMED_MESSAGE, details: { limit: "maxNestingDepth", max: 4 } }),
    );
    let deep: unknown = null;
    for (let i = 0; i < 1_000_000; i++) deep = [deep];
    expect(() => checkNesting(deep, 64, "a deep list")).toThrow(/deeper than 64 levels \(maxNestingDepth\)/);
  });
});

describe("limit settings", () => {
  it("each is a positive integer setting with a default; a hit names it in details.limit", () => {
    for (const limit of LIMIT_SETTINGS) {
      expect(Number.isInteger(sy.presets.default[limit]) && sy.presets.default[limit] > 0, limit).toBe(true);
      expect(() => sy.withConfig({ [limit]: 0 }, () => undefined), limit).toThrow(
        expect.objectContaining({ code: sy.ErrorCode.INVALID_ARGUMENT }),
      );
    }
    const error = limitError("maxOpElements", 10, "elements of x", 5);
    expect(error).toBeInstanceOf(sy.LimitError);
    expect(error).toMatchObject({ code: sy.ErrorCode.LIMIT, details: { limit: "maxOpElements", max: 5, got: 10 } });
    expect(error.message).toMatch(/elements of x: 10 is over the limit of 5 \(maxOpElements\)\. .*raise maxOpElements/);
    // It survives the wire with its class and code.
    const back = sy.deserializeError(sy.serializeError(error));
    expect(back).toBeInstanceOf(sy.LimitError);
    expect(back).toMatchObject({ code: sy.ErrorCode.LIMIT, details: { limit: "maxOpElements" } });
  });

  it("objects per client: the helper the authorization work calls before storing for a client", () => {
    checkObjectsPerClient(2, "anon:abc", 3);
    expect(() => checkObjectsPerClient(3, "anon:abc", 3)).toThrow(
      expect.objectContaining({
        code: sy.ErrorCode.LIMIT,
        details: expect.objectContaining({ limit: "maxObjectsPerClient", client: "anon:abc" }),
      }),
    );
  });
});

describe("MailboxBuffer", () => {
  const frame = (tag: string, elements = 8, from = "dan") => ({
    kind: "data" as const,
    from,
    tag,
    tensors: [ring.zeros([elements])],
  });

  it("drops a peer's oldest frames past its count or bytes, never another peer's; remembers why", () => {
    const buffer = new MailboxBuffer("bob", { mailboxMaxFrames: 3, mailboxMaxBytes: 1_000, mailboxMaxAgeMs: 60_000 });
    for (let i = 0; i < 5; i++) buffer.put(frame(`t${i}`));
    buffer.put(frame("mine", 8, "charlie"));
    expect(buffer.size).toBe(4);
    expect(buffer.dropped).toBe(2);
    expect(buffer.dropReason("dan", "t0")).toMatchObject({
      code: sy.ErrorCode.LIMIT,
      details: { limit: "mailboxMaxFrames" },
    });
    expect(buffer.take("charlie", "mine")?.tag).toBe("mine");
    buffer.put(frame("big", 200)); // 1600 bytes > 1000: it and everything older go
    expect(buffer.dropReason("dan", "big")).toMatchObject({ details: { limit: "mailboxMaxBytes" } });
    expect(buffer.size).toBe(0);
    expect(buffer.bytes).toBe(0);
    buffer.put(frame("t0")); // the same tag again: buffered, no longer reported dropped
    expect(buffer.dropReason("dan", "t0")).toBeUndefined();
    buffer.clear();
  });

  it("drops frames older than mailboxMaxAgeMs at a sweep, and stops sweeping when empty", () => {
    let now = 0;
    const buffer = new MailboxBuffer(
      "bob",
      { mailboxMaxFrames: 10, mailboxMaxBytes: 1e9, mailboxMaxAgeMs: 100 },
      () => now,
    );
    buffer.put(frame("old"));
    now = 60;
    buffer.put(frame("young"));
    now = 120;
    buffer.sweep();
    expect(buffer.take("dan", "old")).toBeUndefined();
    expect(buffer.dropReason("dan", "old")).toMatchObject({ details: { limit: "mailboxMaxAgeMs", got: 120 } });
    expect(buffer.take("dan", "young")?.tag).toBe("young");
    expect(buffer.size).toBe(0);
  });
});

describe("dealer requests and op outputs", () => {
  it("counts a piece's ring elements and refuses one over maxDealerElements, or a malformed one", () => {
    const beaver: MaterialSpec = { kind: "beaver", op: { kind: "matmul" }, xShape: [2, 3], yShape: [3, 4] };
    expect(materialElements(beaver)).toBe(6 + 12 + 8);
    expect(materialElements({ kind: "randomBits", shape: [5] })).toBe(10);
    expect(materialElements({ kind: "binaryTriple", shape: [5] })).toBe(15);
    checkMaterialRequest(beaver, { maxDealerElements: 26 });
    expect(() => checkMaterialRequest(beaver, { maxDealerElements: 25 })).toThrow(
      expect.objectContaining({
        code: sy.ErrorCode.LIMIT,
        details: expect.objectContaining({ limit: "maxDealerElements", got: 26 }),
      }),
    );
    for (const bad of [{ kind: "randomBits", shape: [-1] }, { kind: "randomBits", shape: "x" }, { kind: "gold" }, null])
      expect(() => checkMaterialRequest(bad as MaterialSpec), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: expect.stringMatching(/^TSYFT_ERR_/) }),
      );
  });

  it("checks an op's output from its input shapes before anything is computed", () => {
    expect(
      checkOpOutput(sy.Op.MatMul, {}, [
        [2, 3],
        [3, 4],
      ]),
    ).toEqual([2, 4]);
    expect(() =>
      checkOpOutput(sy.Op.Add, {}, [
        [10000, 1],
        [1, 10000],
      ]),
    ).toThrow(/100000000 is over the limit of 33554432/);
    expect(() => checkOpOutput(sy.Op.Add, {}, [[2], [3]])).toThrow(
      expect.objectContaining({ code: sy.ErrorCode.SHAPE_MISMATCH }),
    );
    expect(() => checkOpOutput("frobnicate" as sy.OpName, {}, [])).toThrow(
      expect.objectContaining({ code: sy.ErrorCode.UNSUPPORTED_OP }),
    );
  });
});

describe("exposure of CLI servers", () => {
  it("loopback addresses listen freely; others need credentials, and warn without TLS", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"])
      expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ["0.0.0.0", "::", "192.168.1.5", "10.0.0.1", "example.com"])
      expect(isLoopbackHost(host), host).toBe(false);
    checkExposure({ role: "node", host: "127.0.0.1", credentials: undefined, tls: false });
    expect(() => checkExposure({ role: "node", host: "0.0.0.0", credentials: undefined, tls: true })).toThrow(
      expect.objectContaining({
        code: sy.ErrorCode.AUTH,
        message: expect.stringMatching(/refusing to listen on 0\.0\.0\.0.*--admin-key/),
      }),
    );
    const warnings: string[] = [];
    checkExposure({
      role: "gateway",
      host: "0.0.0.0",
      credentials: "--admin-key",
      tls: false,
      warn: (m) => warnings.push(m),
    });
    checkExposure({
      role: "gateway",
      host: "0.0.0.0",
      credentials: "--admin-key",
      tls: true,
      warn: (m) => warnings.push(m),
    });
    expect(warnings).toEqual([expect.stringMatching(/without TLS.*--tls-cert/)]);
  });

  it("credentials are an admin key, an identity file, or a data dir holding identity.json or credentials.json", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-exposure-"));
    try {
      expect(configuredCredentials({ dataDir: dir })).toBeUndefined();
      expect(configuredCredentials({ adminKey: "k" })).toBe("--admin-key");
      expect(configuredCredentials({ identity: "id.json" })).toBe("--identity");
      fs.writeFileSync(path.join(dir, "identity.json"), "{}");
      expect(configuredCredentials({ dataDir: dir })).toBe(path.join(dir, "identity.json"));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

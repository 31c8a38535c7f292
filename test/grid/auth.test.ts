/**
 * The grid's credentials: keys, certificates, tokens, proofs and node
 * identities, checked for what they accept and, above all, what they refuse.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { encodeMessage } from "../../src/core/codec";
import { ErrorCode } from "../../src/core/errors";
import {
  ReplayGuard,
  adminKeyPair,
  checkProof,
  clientKey,
  createGridCredentials,
  fingerprint,
  generateKeyPair,
  gridKeyOf,
  issueCertificate,
  issueUserToken,
  keyPairFromSeed,
  loadOrCreateIdentity,
  prove,
  seedOf,
  signBytes,
  verifyBytes,
  verifyCertificate,
} from "../../src/grid/auth";

const dirs: string[] = [];
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-auth-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const bytes = (s: string) => new TextEncoder().encode(s);

describe("keys", () => {
  it("sign and verify; a seed gives back the same key pair", () => {
    const pair = generateKeyPair();
    const sig = signBytes(pair, bytes("hello"));
    expect(verifyBytes(pair.publicKey, bytes("hello"), sig)).toBe(true);
    expect(verifyBytes(pair.publicKey, bytes("hellO"), sig)).toBe(false);
    expect(verifyBytes(generateKeyPair().publicKey, bytes("hello"), sig)).toBe(false);
    expect(keyPairFromSeed(seedOf(pair.privateKey)).publicKey).toBe(pair.publicKey);
    expect(fingerprint(pair.publicKey)).toMatch(/^[0-9a-f]{16}$/);
  });

  it("malformed keys and signatures are refused, never thrown as crashes", () => {
    expect(verifyBytes("not a key", bytes("x"), new Uint8Array(64))).toBe(false);
    expect(verifyBytes(generateKeyPair().publicKey, bytes("x"), "sig")).toBe(false);
    expect(() => keyPairFromSeed("short")).toThrow(expect.objectContaining({ code: ErrorCode.AUTH }));
  });
});

describe("certificates and tokens", () => {
  const grid = createGridCredentials();

  it("the admin token's public key is the grid key", () => {
    expect(adminKeyPair(grid.adminToken).publicKey).toBe(grid.gridKey);
    expect(grid.adminToken.startsWith("tsyft-admin.")).toBe(true);
  });

  it("a node certificate holds for its node, key and grid only", () => {
    const node = generateKeyPair();
    const cert = issueCertificate(grid.adminToken, { role: "node", sub: "bob", key: node.publicKey });
    expect(verifyCertificate(cert, grid.gridKey, { role: "node", sub: "bob", key: node.publicKey }).sub).toBe("bob");
    const refused = (fn: () => unknown, what: RegExp) =>
      expect(fn).toThrow(expect.objectContaining({ code: ErrorCode.AUTH, message: expect.stringMatching(what) }));
    refused(() => verifyCertificate(cert, grid.gridKey, { role: "node", sub: "charlie" }), /names "bob"/);
    refused(() => verifyCertificate(cert, grid.gridKey, { role: "user" }), /node certificate/);
    refused(
      () => verifyCertificate(cert, grid.gridKey, { role: "node", key: generateKeyPair().publicKey }),
      /another key/,
    );
    refused(() => verifyCertificate(cert, createGridCredentials().gridKey, { role: "node" }), /not signed/);
    refused(() => verifyCertificate(new Uint8Array([1, 2, 3]), grid.gridKey, { role: "node" }), /not a tsyft/);
  });

  it("a certificate signed by someone else's key is refused", () => {
    const forger = createGridCredentials();
    const node = generateKeyPair();
    // The forger signs a body that claims the real grid key.
    const forged = issueCertificate(forger.adminToken, { role: "node", sub: "bob", key: node.publicKey });
    expect(() => verifyCertificate(forged, grid.gridKey, { role: "node", sub: "bob" })).toThrow(/not signed/);
  });

  it("an expired certificate is refused with a message that says what to do", () => {
    const cert = issueCertificate(grid.adminToken, {
      role: "user",
      sub: "ada",
      key: generateKeyPair().publicKey,
      expiresInMs: -1,
    });
    expect(() => verifyCertificate(cert, grid.gridKey, { role: "user" })).toThrow(/expired.*admin/);
  });

  it("client tokens: admin, user (with the grid key in its certificate) and anonymous", () => {
    expect(clientKey(grid.adminToken).kind).toBe("admin");
    expect(gridKeyOf(clientKey(grid.adminToken))).toBe(grid.gridKey);
    const user = clientKey(issueUserToken(grid.adminToken, { subject: "ada" }));
    expect(user.kind).toBe("user");
    expect(gridKeyOf(user)).toBe(grid.gridKey);
    const anon = clientKey(undefined);
    expect(anon.kind).toBe("anonymous");
    expect(gridKeyOf(anon)).toBeUndefined();
    expect(() => clientKey("hunter2")).toThrow(expect.objectContaining({ code: ErrorCode.AUTH }));
    expect(() => clientKey("hunter2")).not.toThrow(/hunter2/); // a wrong secret is never echoed
  });
});

describe("proofs", () => {
  const pair = generateKeyPair();
  const context = ["tsyft-hello-v1", "client", "bob", ""];

  it("a proof is accepted once, for its own context only", () => {
    const guard = new ReplayGuard();
    const proof = prove(pair, context);
    expect(checkProof(proof, context, guard)).toBe(pair.publicKey);
    expect(() => checkProof(proof, context, guard)).toThrow(/replay/);
    expect(() => checkProof(prove(pair, context), ["tsyft-hello-v1", "client", "charlie", ""])).toThrow(/signature/);
  });

  it("a proof from another time is refused", () => {
    const time = Date.now() - 10 * 60_000;
    const nonce = new Uint8Array(16).fill(7);
    const sig = signBytes(pair, encodeMessage([...context, time, nonce]));
    expect(() => checkProof({ key: pair.publicKey, time, nonce, sig }, context)).toThrow(/clock/);
  });

  it("malformed proofs are refused with TSYFT_ERR_AUTH", () => {
    for (const bad of [undefined, null, 3, {}, { key: pair.publicKey, time: Date.now(), nonce: "x", sig: "y" }]) {
      expect(() => checkProof(bad, context)).toThrow(expect.objectContaining({ code: ErrorCode.AUTH }));
    }
  });
});

describe("node identities", () => {
  it("is created on first start and the same at the next", () => {
    const grid = createGridCredentials();
    const file = path.join(tmpDir(), "bob", "identity.json");
    const first = loadOrCreateIdentity({ id: "bob", file, adminToken: grid.adminToken });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, "utf8")).not.toContain(grid.adminToken.split(".")[1]!);
    const again = loadOrCreateIdentity({ id: "bob", file });
    expect(again.pair.publicKey).toBe(first.pair.publicKey);
    expect(again.gridKey).toBe(grid.gridKey);
    expect(
      verifyCertificate(again.cert, grid.gridKey, { role: "node", sub: "bob", key: again.pair.publicKey }),
    ).toBeTruthy();
  });

  it("without credentials a node makes a one-node grid and says its admin token", () => {
    const identity = loadOrCreateIdentity({ id: "solo" });
    expect(identity.adminToken).toBeDefined();
    expect(adminKeyPair(identity.adminToken!).publicKey).toBe(identity.gridKey);
  });

  it("refuses another node's identity file and a grid key it has no certificate for", () => {
    const grid = createGridCredentials();
    const file = path.join(tmpDir(), "identity.json");
    loadOrCreateIdentity({ id: "bob", file, adminToken: grid.adminToken });
    expect(() => loadOrCreateIdentity({ id: "charlie", file })).toThrow(/identity of node "bob"/);
    expect(() => loadOrCreateIdentity({ id: "bob", file, gridKey: createGridCredentials().gridKey })).toThrow(
      /no certificate.*enroll/,
    );
  });
});

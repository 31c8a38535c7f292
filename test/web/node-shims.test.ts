/**
 * The browser bundle's stand-ins for node:crypto and Buffer (src/web/node) give what Node gives, on
 * the same inputs: hashes, hmacs, the AES-CTR keystream split at odd points, Ed25519 keys and
 * signatures across the two (a browser's hello must verify on a node, and the other way round).
 */
import * as nodeCrypto from "node:crypto";
import { describe, expect, it } from "vitest";
import * as web from "../../src/web/node/crypto";
import { Buffer as WebBuffer } from "../../src/web/node/buffer";

describe("src/web/node/crypto against node:crypto", () => {
  it("hashes and hmacs alike", () => {
    for (const text of ["", "abc", "x".repeat(1000)]) {
      expect(
        web
          .createHash("sha256")
          .update(text)
          .update(new Uint8Array([1, 2]))
          .digest("hex"),
      ).toBe(
        nodeCrypto
          .createHash("sha256")
          .update(text)
          .update(new Uint8Array([1, 2]))
          .digest("hex"),
      );
      expect([...web.createHmac("sha256", "key").update(text).digest()]).toEqual([
        ...nodeCrypto.createHmac("sha256", "key").update(text).digest(),
      ]);
    }
  });

  it("streams the same AES-128-CTR keystream, whatever the pieces", () => {
    const key = nodeCrypto.randomBytes(16);
    const iv = Buffer.alloc(16);
    iv.writeBigUInt64BE(0xffffffffffffffffn, 8); // the counter carries into the upper half at once
    const plain = nodeCrypto.randomBytes(1000);
    const expected = nodeCrypto.createCipheriv("aes-128-ctr", key, iv).update(plain);
    const stream = web.createCipheriv("aes-128-ctr", key, iv);
    const pieces = [plain.subarray(0, 5), plain.subarray(5, 37), plain.subarray(37, 512), plain.subarray(512)];
    expect([...Buffer.concat(pieces.map((p) => stream.update(p)))]).toEqual([...expected]);
  });

  it("makes Ed25519 keys and signatures Node accepts, and accepts Node's", () => {
    const seed = nodeCrypto.randomBytes(32);
    const pkcs8 = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);
    const nodeKey = nodeCrypto.createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
    const webKey = web.createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
    const nodeSpki = nodeCrypto.createPublicKey(nodeKey).export({ format: "der", type: "spki" });
    expect([...web.createPublicKey(webKey).export({ format: "der", type: "spki" })]).toEqual([...nodeSpki]);
    const data = new Uint8Array([5, 6, 7]);
    const webSig = web.sign(null, data, webKey);
    expect(nodeCrypto.verify(null, data, nodeCrypto.createPublicKey(nodeKey), webSig)).toBe(true);
    const webPublic = web.createPublicKey({ key: nodeSpki, format: "der", type: "spki" });
    expect(web.verify(null, data, webPublic, nodeCrypto.sign(null, data, nodeKey))).toBe(true);
    expect(web.verify(null, new Uint8Array([5, 6, 8]), webPublic, webSig)).toBe(false);
  });

  it("compares in constant time and draws random bytes", () => {
    expect(web.timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(web.timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    const big = web.randomFillSync(new Uint8Array(200_000));
    expect(big.subarray(150_000).some((b) => b !== 0)).toBe(true);
    expect(web.randomBytes(16)).toHaveLength(16);
  });
});

describe("src/web/node/buffer", () => {
  it("reads and writes base64url as Node does", () => {
    const bytes = nodeCrypto.randomBytes(33);
    const url = bytes.toString("base64url");
    expect(WebBuffer.from(bytes).toString("base64url")).toBe(url);
    expect([...WebBuffer.from(url, "base64url")]).toEqual([...bytes]);
  });
});

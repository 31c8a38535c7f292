// Party-to-party frames (workers/messages.ts): a MessagePack header then the
// tensors' raw bytes. They round-trip every shape and meta; tensors arrive as
// views when aligned and as copies when not; masks made with headroom are sent
// without a copy; and every malformed frame fails with MALFORMED_MESSAGE.
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import * as sy from "../../src";
import { encodeMessage } from "../../src/core/codec";
import type { PeerFrame } from "../../src/mpc/communicator";
import * as ring from "../../src/ring";
import { decodeFrame, encodeFrame } from "../../src/workers/messages";

const values = (t: ring.RingTensor) => ring.toBigInts(t);

function sample(): PeerFrame {
  return {
    kind: "data",
    from: "bob",
    tag: "op-1/3:and.ltz.ks4",
    tensors: [
      ring.fromInts([1, -2, 3, -4, 5, -6], [2, 3]),
      ring.scalar(-(1n << 63n)),
      ring.zeros([0, 4]),
      ring.fromInts([7], [1]),
    ],
    meta: { key: new Uint8Array([1, 2, 3]), note: "x", n: 5 },
  };
}

function expectSame(got: PeerFrame, want: PeerFrame): void {
  expect({ ...got, tensors: undefined }).toEqual({ ...want, tensors: undefined });
  expect(got.tensors.map((t) => t.shape)).toEqual(want.tensors.map((t) => t.shape));
  expect(got.tensors.map(values)).toEqual(want.tensors.map(values));
}

function malformed(bytes: Uint8Array): sy.TsyftError | undefined {
  try {
    decodeFrame(bytes);
  } catch (e) {
    return e as sy.TsyftError;
  }
  return undefined;
}

describe("frames", () => {
  it("round-trip kinds, tags, meta and tensors of any shape; data follows an 8-aligned header", () => {
    for (const kind of ["data", "request", "reply", "abort"] as const) {
      const frame = { ...sample(), kind };
      const bytes = encodeFrame(frame);
      expectSame(decodeFrame(bytes), frame);
      const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
      expect(bytes.byteLength - Math.ceil((4 + headerLength) / 8) * 8).toBe(8 * (6 + 1 + 0 + 1));
    }
    const empty: PeerFrame = { kind: "request", from: "charlie", tag: "t/0:key", tensors: [] };
    expectSame(decodeFrame(encodeFrame(empty)), { ...empty, meta: undefined });
  });

  it("tensors are views of aligned frames and copies of unaligned ones", () => {
    const bytes = encodeFrame(sample());
    const aligned = decodeFrame(bytes);
    expect(aligned.tensors[0]!.data.buffer).toBe(bytes.buffer);
    // The same frame at an odd offset (as behind a grid channel byte).
    const shifted = new Uint8Array(bytes.byteLength + 1);
    shifted.set(bytes, 1);
    const unaligned = decodeFrame(shifted.subarray(1));
    expectSame(unaligned, sample());
    expect(unaligned.tensors[0]!.data.buffer).not.toBe(shifted.buffer);
  });

  it("an AND's masks go out from where they lie, header in their headroom, once", () => {
    const x = ring.fromInts([1, 2, 3, 4], [4]);
    const masks = ring.andMasks([x], [{ tensor: x, shl: 5 }], { seed: ring.randomSeed(), length: 4 });
    const frame: PeerFrame = { kind: "data", from: "bob", tag: "s/1:and.x", tensors: [masks] };
    const first = encodeFrame(frame);
    expect(first.buffer).toBe(masks.data.buffer); // no copy
    expect(first.byteOffset + first.byteLength).toBe(masks.data.byteOffset + masks.data.byteLength);
    const again = encodeFrame(frame); // the headroom is taken: a copy, the same bytes
    expect(again.buffer).not.toBe(masks.data.buffer);
    expect(Buffer.from(again).equals(Buffer.from(first))).toBe(true);
    expectSame(decodeFrame(first), frame);
    expect(values(masks)).toEqual(values(decodeFrame(again).tensors[0]!));
  });

  it("malformed frames fail with MALFORMED_MESSAGE, naming what was expected", () => {
    const good = encodeFrame(sample());
    const withHeader = (header: unknown, data = new Uint8Array(0)) => {
      const h = encodeMessage(header);
      const start = Math.ceil((4 + h.byteLength) / 8) * 8;
      const out = new Uint8Array(start + data.byteLength);
      new DataView(out.buffer).setUint32(0, h.byteLength, true);
      out.set(h, 4);
      out.set(data, start);
      return out;
    };
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ["empty", new Uint8Array(0), /4-byte header length/],
      ["header longer than the frame", Uint8Array.from([200, 0, 0, 0, 1, 2]), /header length 200/],
      ["header not MessagePack", Uint8Array.from([1, 0, 0, 0, 0xc1]), /Malformed message/],
      ["header not an object", withHeader(42), /peer frame header/],
      ["unknown kind", withHeader({ k: "gossip", f: "a", t: "b", s: [] }), /peer frame header/],
      ["no tag", withHeader({ k: "data", f: "a", s: [] }), /peer frame header/],
      ["shapes not a list", withHeader({ k: "data", f: "a", t: "b", s: 3 }), /peer frame header/],
      ["negative dimension", withHeader({ k: "data", f: "a", t: "b", s: [[-1]] }), /peer frame header/],
      ["fractional dimension", withHeader({ k: "data", f: "a", t: "b", s: [[1.5]] }), /peer frame header/],
      [
        "data too short",
        withHeader({ k: "data", f: "a", t: "b", s: [[2]] }, new Uint8Array(8)),
        /16 bytes of tensor data.*got 8 bytes/,
      ],
      [
        "data too long",
        withHeader({ k: "data", f: "a", t: "b", s: [[1]] }, new Uint8Array(16)),
        /8 bytes of tensor data/,
      ],
      ["truncated", good.subarray(0, good.byteLength - 3), /bytes of tensor data/],
    ];
    for (const [what, bytes, message] of cases) {
      const err = malformed(bytes);
      expect(err, what).toBeInstanceOf(sy.CommunicationError);
      expect(err!.code, what).toBe("TSYFT_ERR_MALFORMED_MESSAGE");
      expect(err!.message, what).toMatch(message);
    }
  });

  it("a worker counts a malformed frame and keeps serving", async () => {
    const hook = sy.hook(tf);
    const [bob, charlie, dan] = ["bob", "charlie", "dan"].map((id) => new sy.VirtualWorker(hook, { id }));
    bob!.receiveFrame(Uint8Array.from([9, 9, 9]));
    expect(bob!.stats.malformed).toBe(1);
    const x = tf.tensor([1.5, -2]).fixPrecision().share(bob!, charlie!, { cryptoProvider: dan! });
    expect(Array.from((await x.relu().get()).floatPrecision().dataSync())).toEqual([1.5, 0]);
  });
});

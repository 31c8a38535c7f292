// The grid's framing and control messages: round trips and the errors of
// malformed input (class, code, message).
import { describe, expect, it } from "vitest";
import * as sy from "../../src";
import { encodeMessage } from "../../src/core/codec";
import { Backoff } from "../../src/grid/backoff";
import { decodeControl, encodeControl, type ControlMessage } from "../../src/grid/control";
import { Channel, channelName, decodeGridFrame, encodeGridFrame, messageBytes } from "../../src/grid/framing";

describe("grid framing", () => {
  it("round-trips every channel; the payload is a view, not a copy", () => {
    for (const channel of Object.values(Channel)) {
      const payload = Uint8Array.of(1, 2, 3, 250);
      const frame = encodeGridFrame(channel, payload);
      expect(frame.byteLength).toBe(5);
      const back = decodeGridFrame(frame);
      expect(back.channel).toBe(channel);
      expect(Array.from(back.payload)).toEqual([1, 2, 3, 250]);
      expect(back.payload.buffer).toBe(frame.buffer);
    }
    expect(channelName(Channel.Peer)).toBe("peer");
    expect(channelName(0x42)).toBe("unknown(0x42)");
  });

  it("refuses empty frames and unknown channels with MALFORMED_MESSAGE", () => {
    const fail = (bytes: Uint8Array) => {
      try {
        decodeGridFrame(bytes);
      } catch (error) {
        return error as sy.TsyftError;
      }
      throw new Error("expected a failure");
    };
    const empty = fail(new Uint8Array(0));
    expect(empty).toBeInstanceOf(sy.CommunicationError);
    expect(empty.code).toBe(sy.ErrorCode.MALFORMED_MESSAGE);
    expect(empty.message).toMatch(/empty message/);
    const unknown = fail(Uint8Array.of(0x00, 1));
    expect(unknown.code).toBe(sy.ErrorCode.MALFORMED_MESSAGE);
    expect(unknown.message).toMatch(/unknown channel 0x00.*expected 0x01 request/);
  });

  it("messageBytes gives plain Uint8Array views of Buffers (whose slice() would not copy)", () => {
    const buffer = Buffer.from([9, 8, 7]);
    const view = messageBytes(buffer);
    expect(view.constructor).toBe(Uint8Array);
    expect(view.buffer).toBe(buffer.buffer);
    expect(Array.from(messageBytes([Buffer.from([1]), Buffer.from([2, 3])]))).toEqual([1, 2, 3]);
    expect(Array.from(messageBytes(Uint8Array.of(4, 5).buffer))).toEqual([4, 5]);
  });
});

describe("control messages", () => {
  it("round-trip", () => {
    const messages: ControlMessage[] = [
      { t: "hello", role: "client", expect: "bob" },
      { t: "hello", role: "peer", from: "alice", url: "ws://127.0.0.1:3001", boot: "abc", expect: "bob" },
      { t: "welcome", id: "bob", boot: "def" },
      { t: "link", rid: 1, id: "alice", url: "ws://127.0.0.1:3001" },
      { t: "status", rid: 2 },
      { t: "result", rid: 2, ok: true, value: { id: "bob" } },
      {
        t: "result",
        rid: 3,
        ok: false,
        error: { name: "CommunicationError", code: sy.ErrorCode.CONNECTION, message: "gone" },
      },
    ];
    for (const message of messages) expect(decodeControl(encodeControl(message))).toEqual(message);
  });

  it("refuses unknown types and missing fields, saying what was expected", () => {
    const bad = [
      { t: "shutdown" },
      { t: "hello", role: "peer" },
      { t: "hello", role: "admin" },
      { t: "link", rid: 1, id: "x" },
      { t: "welcome", id: 3 },
      [1, 2],
      "hello",
    ];
    for (const message of bad) {
      expect(() => decodeControl(encodeMessage(message)), JSON.stringify(message)).toThrow(
        expect.objectContaining({
          code: sy.ErrorCode.MALFORMED_MESSAGE,
          message: expect.stringMatching(/Malformed control message: expected/),
        }),
      );
    }
  });
});

describe("Backoff", () => {
  it("doubles from the initial delay up to the ceiling, with bounded jitter, and resets", () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1_000, jitter: 0.2 });
    const delays = Array.from({ length: 7 }, () => backoff.next());
    const bases = [100, 200, 400, 800, 1_000, 1_000, 1_000];
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(bases[i]!);
      expect(d).toBeLessThanOrEqual(bases[i]! * 1.2 + 1);
    });
    expect(backoff.attempts).toBe(7);
    backoff.reset();
    expect(backoff.next()).toBeLessThanOrEqual(121);
  });
});

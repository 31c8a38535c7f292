import { describe, expect, it } from "vitest";
import { DataError, ErrorCode } from "../../src/core/errors";
import { Rng } from "../../src/data/random";
import type { Sample } from "../../src/data/sample";
import {
  compose,
  denormalize,
  flipHorizontal,
  flipVertical,
  HAM10000_MEAN,
  HAM10000_STD,
  normalize,
  randomHorizontalFlip,
  randomVerticalFlip,
  resize,
} from "../../src/data/transforms";

/** A 2x3 RGB image whose value at (y, x, c) is 100y + 10x + c, scaled to [0, 1). */
function tiny(): Sample {
  const image = new Float32Array(2 * 3 * 3);
  for (let y = 0; y < 2; y++) for (let x = 0; x < 3; x++) for (let c = 0; c < 3; c++) image[(y * 3 + x) * 3 + c] = (100 * y + 10 * x + c) / 1000;
  return { image, shape: [2, 3, 3], label: 1 };
}
const at = (s: Sample, y: number, x: number, c: number) => s.image[(y * s.shape[1] + x) * s.shape[2] + c]!;

describe("flips", () => {
  it("mirror left-right and top-bottom, pixel by pixel, without touching the input", () => {
    const s = tiny();
    const before = s.image.slice();
    const h = flipHorizontal(s);
    const v = flipVertical(s);
    for (let y = 0; y < 2; y++) {
      for (let x = 0; x < 3; x++) {
        for (let c = 0; c < 3; c++) {
          expect(at(h, y, x, c)).toBe(at(s, y, 2 - x, c));
          expect(at(v, y, x, c)).toBe(at(s, 1 - y, x, c));
        }
      }
    }
    expect(s.image).toEqual(before);
    expect(h.label).toBe(1);
    expect(flipHorizontal(h).image).toEqual(s.image);
  });

  it("flip with probability p, reproducibly for a seed", () => {
    const s = tiny();
    const flip = randomHorizontalFlip(0.3);
    const outcomes = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 2000 }, () => flip(s, rng).image[0] !== s.image[0]);
    };
    const a = outcomes(11);
    expect(outcomes(11)).toEqual(a);
    expect(outcomes(12)).not.toEqual(a);
    const rate = a.filter(Boolean).length / a.length;
    expect(Math.abs(rate - 0.3)).toBeLessThan(0.04);
    expect(randomVerticalFlip(1)(s).image).toEqual(flipVertical(s).image);
    expect(randomVerticalFlip(0)(s)).toBe(s);
  });

  it("accept an rng at creation and refuse to guess one", () => {
    const s = tiny();
    const r1 = randomVerticalFlip(0.5, new Rng(5));
    const r2 = randomVerticalFlip(0.5, new Rng(5));
    for (let i = 0; i < 20; i++) expect(r1(s).image).toEqual(r2(s).image);
    expect(() => randomHorizontalFlip(0.5)(s)).toThrow(/needs a seeded Rng/);
    expect(() => randomHorizontalFlip(1.5)).toThrow(DataError);
  });
});

describe("normalize", () => {
  it("computes (x - mean[c]) / std[c] per channel, and denormalize undoes it", () => {
    const s = tiny();
    const mean = [0.1, 0.2, 0.3];
    const std = [0.5, 0.25, 2];
    const n = normalize(mean, std)(s);
    for (let i = 0; i < s.image.length; i++) expect(n.image[i]).toBeCloseTo((s.image[i]! - mean[i % 3]!) / std[i % 3]!, 6);
    const back = denormalize(mean, std)(n);
    for (let i = 0; i < s.image.length; i++) expect(back.image[i]).toBeCloseTo(s.image[i]!, 6);
  });

  it("maps the HAM10000 mean to 0 and mean + std to 1", () => {
    const pixel: Sample = { image: Float32Array.from([...HAM10000_MEAN, ...HAM10000_MEAN.map((m, c) => m + HAM10000_STD[c]!)]), shape: [1, 2, 3], label: 0 };
    const out = normalize(HAM10000_MEAN, HAM10000_STD)(pixel).image;
    [0, 0, 0, 1, 1, 1].forEach((v, i) => expect(out[i]).toBeCloseTo(v, 5));
    expect(HAM10000_MEAN).toEqual([0.6979, 0.5445, 0.5735]);
    expect(HAM10000_STD).toEqual([0.0959, 0.1187, 0.1365]);
  });

  it("rejects statistics that do not fit the image", () => {
    expect(() => normalize([0.5], [0])).toThrow(DataError);
    try {
      normalize([0.5], [0.5])(tiny());
      throw new Error("expected a DataError");
    } catch (error) {
      expect((error as DataError).code).toBe(ErrorCode.SHAPE_MISMATCH);
    }
  });
});

describe("resize", () => {
  it("averages 2x2 blocks when halving and keeps a flat image flat", () => {
    // 4x4x1 image: value = 4y + x
    const image = Float32Array.from({ length: 16 }, (_, i) => i);
    const out = resize(2)({ image, shape: [4, 4, 1], label: 0 });
    expect(out.shape).toEqual([2, 2, 1]);
    // The antialiasing triangle spans 2 input pixels each way, so each output is a weighted mean centred on its block.
    expect(out.image[0]! + out.image[3]!).toBeCloseTo(15, 5);
    expect(out.image[1]! - out.image[0]!).toBeGreaterThan(0.5);
    expect(out.image[2]! - out.image[0]!).toBeGreaterThan(2);
    const flat = resize([3, 5])({ image: new Float32Array(7 * 9 * 3).fill(0.25), shape: [7, 9, 3], label: 0 });
    expect(flat.shape).toEqual([3, 5, 3]);
    for (const v of flat.image) expect(v).toBeCloseTo(0.25, 6);
    const up = resize(8)({ image: new Float32Array(4 * 4 * 3).fill(0.75), shape: [4, 4, 3], label: 0 });
    for (const v of up.image) expect(v).toBeCloseTo(0.75, 6);
  });
});

describe("compose", () => {
  it("applies left to right with one shared rng", () => {
    const s = tiny();
    const t = compose(randomHorizontalFlip(1), normalize([0, 0, 0], [0.5, 0.5, 0.5]));
    const out = t(s, new Rng(0));
    const expected = normalize([0, 0, 0], [0.5, 0.5, 0.5])(flipHorizontal(s));
    expect(out.image).toEqual(expected.image);
    expect(compose()(s)).toBe(s);
    const random = compose(randomHorizontalFlip(0.5), randomVerticalFlip(0.5));
    expect(random(s, new Rng(99)).image).toEqual(random(s, new Rng(99)).image);
  });
});

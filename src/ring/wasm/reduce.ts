// Sum over one axis (AssemblyScript).

import { add } from "./elementwise";

/**
 * Views x as [outer, r, inner] and writes out[outer, inner] = sum over r.
 * Several axes are reduced by calling this once per axis.
 */
export function sumAxis(x: usize, out: usize, outer: i32, r: i32, inner: i32): void {
  const innerBytes = (<usize>inner) << 3;
  const blockBytes = <usize>r * innerBytes;
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      let s: i64 = 0;
      const row = x + <usize>o * blockBytes;
      for (let q: usize = 0; q < blockBytes; q += 8) s += load<i64>(row + q);
      store<i64>(out + ((<usize>o) << 3), s);
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    const dst = out + <usize>o * innerBytes;
    const src = x + <usize>o * blockBytes;
    if (r == 0) {
      memory.fill(dst, 0, innerBytes);
      continue;
    }
    memory.copy(dst, src, innerBytes);
    for (let j = 1; j < r; j++) add(dst, src + <usize>j * innerBytes, dst, inner);
  }
}

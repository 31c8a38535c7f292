// Matrix product over Z_2^64 (AssemblyScript).
//
// C[m,n] = A[m,k] * B[k,n], all row-major i64. B is first packed into panels of
// four columns ([k][4] each, contiguous, the last one zero-padded), so the inner
// loop streams one 32-byte panel row per step of k. A 2x4 block of C is kept in
// eight i64 locals (register tiling). Scalar i64 multiplies beat i64x2 here:
// engines emulate i64x2.mul with several 32-bit multiplies (measured ~9 vs ~7
// GOPS at 256^3), and the 2x4 tile already runs near one multiply per cycle.

const PANEL: i32 = 4;

/**
 * Up to this many rows of A, B is read in place row by row instead of packed:
 * packing reads and writes all of B once more, which pays only when several
 * rows reuse the panels (a vector times a dense layer's weights does not).
 */
const DIRECT_ROWS: i32 = 2;

/**
 * Batched product: for each of `batch` items, C_i = A_i * B_i, where A_i starts at
 * `a + i * aStride` elements and B_i at `b + i * bStride` (a stride of 0 repeats one
 * operand for every item). `scratch` needs room for k * round_up(n, 4) elements.
 */
export function matmul(
  a: usize, b: usize, c: usize,
  batch: i32, m: i32, k: i32, n: i32,
  aStride: i32, bStride: i32, scratch: usize,
): void {
  if (m <= DIRECT_ROWS) {
    for (let i = 0; i < batch; i++) {
      const ai = a + ((<usize>i * <usize>aStride) << 3);
      const bi = b + ((<usize>i * <usize>bStride) << 3);
      multiplyRows(ai, bi, c + ((<usize>i * <usize>m * <usize>n) << 3), m, k, n);
    }
    return;
  }
  let packedFor: isize = -1;
  for (let i = 0; i < batch; i++) {
    const bi = b + ((<usize>i * <usize>bStride) << 3);
    if (packedFor != <isize>bi) {
      packPanels(bi, scratch, k, n);
      packedFor = <isize>bi;
    }
    multiplyPacked(a + ((<usize>i * <usize>aStride) << 3), scratch, c + ((<usize>i * <usize>m * <usize>n) << 3), m, k, n);
  }
}

/**
 * C = A * B without packing: each row of C accumulates rows of B, four at a time, scaled by A's entries (a
 * vector times a dense layer's weights is bound by loads and stores of C's row: four rows of B per pass halve
 * them against two, measured 6.3 -> 4.4 ms for 1x12800 by 12800x400).
 */
function multiplyRows(a: usize, b: usize, c: usize, m: i32, k: i32, n: i32): void {
  const rowBytes = <usize>n << 3;
  for (let i = 0; i < m; i++) {
    const ci = c + <usize>i * rowBytes;
    const ai = a + ((<usize>i * <usize>k) << 3);
    memory.fill(ci, 0, rowBytes);
    let kk = 0;
    for (; kk + 4 <= k; kk += 4) {
      const ak = ai + (<usize>kk << 3);
      const x0 = load<i64>(ak), x1 = load<i64>(ak, 8), x2 = load<i64>(ak, 16), x3 = load<i64>(ak, 24);
      const b0 = b + <usize>kk * rowBytes;
      const b1 = b0 + rowBytes, b2 = b1 + rowBytes, b3 = b2 + rowBytes;
      for (let o: usize = 0; o < rowBytes; o += 8) {
        store<i64>(
          ci + o,
          load<i64>(ci + o) + x0 * load<i64>(b0 + o) + x1 * load<i64>(b1 + o) + x2 * load<i64>(b2 + o) + x3 * load<i64>(b3 + o),
        );
      }
    }
    for (; kk < k; kk++) {
      const x0 = load<i64>(ai + (<usize>kk << 3));
      const b0 = b + <usize>kk * rowBytes;
      for (let o: usize = 0; o < rowBytes; o += 8) store<i64>(ci + o, load<i64>(ci + o) + x0 * load<i64>(b0 + o));
    }
  }
}

/** Copies B[k,n] into panels P[j/4][k][4]; the last panel is zero-padded. */
function packPanels(b: usize, p: usize, k: i32, n: i32): void {
  const panels = (n + PANEL - 1) / PANEL;
  const rowBytes = <usize>n << 3;
  for (let jp = 0; jp < panels; jp++) {
    const j0 = jp * PANEL;
    const width = min(PANEL, n - j0);
    let dst = p + ((<usize>jp * <usize>k * PANEL) << 3);
    let src = b + (<usize>j0 << 3);
    if (width == PANEL) {
      for (let kk = 0; kk < k; kk++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        dst += PANEL << 3;
        src += rowBytes;
      }
    } else {
      for (let kk = 0; kk < k; kk++) {
        for (let j = 0; j < PANEL; j++) {
          store<i64>(dst + (<usize>j << 3), j < width ? load<i64>(src + (<usize>j << 3)) : 0);
        }
        dst += PANEL << 3;
        src += rowBytes;
      }
    }
  }
}

function multiplyPacked(a: usize, p: usize, c: usize, m: i32, k: i32, n: i32): void {
  const panels = (n + PANEL - 1) / PANEL;
  const aRow = <usize>k << 3;
  const cRow = <usize>n << 3;
  const panelBytes = (<usize>k * PANEL) << 3;
  let i = 0;
  for (; i + 2 <= m; i += 2) {
    const a0 = a + <usize>i * aRow;
    const c0 = c + <usize>i * cRow;
    for (let jp = 0; jp < panels; jp++) {
      let pp = p + <usize>jp * panelBytes;
      let ap = a0;
      let c00: i64 = 0, c01: i64 = 0, c02: i64 = 0, c03: i64 = 0;
      let c10: i64 = 0, c11: i64 = 0, c12: i64 = 0, c13: i64 = 0;
      for (let kk = 0; kk < k; kk++) {
        const x0 = load<i64>(ap);
        const x1 = load<i64>(ap + aRow);
        const b0 = load<i64>(pp), b1 = load<i64>(pp, 8), b2 = load<i64>(pp, 16), b3 = load<i64>(pp, 24);
        c00 += x0 * b0; c01 += x0 * b1; c02 += x0 * b2; c03 += x0 * b3;
        c10 += x1 * b0; c11 += x1 * b1; c12 += x1 * b2; c13 += x1 * b3;
        pp += PANEL << 3;
        ap += 8;
      }
      const j0 = jp * PANEL;
      const width = min(PANEL, n - j0);
      const cj = c0 + (<usize>j0 << 3);
      storeRow(cj, c00, c01, c02, c03, width);
      storeRow(cj + cRow, c10, c11, c12, c13, width);
    }
  }
  if (i < m) {
    // The last row when m is odd.
    const ai = a + <usize>i * aRow;
    const ci = c + <usize>i * cRow;
    for (let jp = 0; jp < panels; jp++) {
      let pp = p + <usize>jp * panelBytes;
      let ap = ai;
      let c00: i64 = 0, c01: i64 = 0, c02: i64 = 0, c03: i64 = 0;
      for (let kk = 0; kk < k; kk++) {
        const x0 = load<i64>(ap);
        c00 += x0 * load<i64>(pp); c01 += x0 * load<i64>(pp, 8);
        c02 += x0 * load<i64>(pp, 16); c03 += x0 * load<i64>(pp, 24);
        pp += PANEL << 3;
        ap += 8;
      }
      const j0 = jp * PANEL;
      storeRow(ci + (<usize>j0 << 3), c00, c01, c02, c03, min(PANEL, n - j0));
    }
  }
}

@inline
function storeRow(dst: usize, v0: i64, v1: i64, v2: i64, v3: i64, width: i32): void {
  if (width == PANEL) {
    store<i64>(dst, v0); store<i64>(dst, v1, 8); store<i64>(dst, v2, 16); store<i64>(dst, v3, 24);
  } else {
    store<i64>(dst, v0);
    if (width > 1) store<i64>(dst, v1, 8);
    if (width > 2) store<i64>(dst, v2, 16);
  }
}

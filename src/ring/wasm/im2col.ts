// The im2col gather behind conv2d and the pooling windows (AssemblyScript).
//
// x is NHWC [N,H,W,C]. For every output position (n, oh, ow) one row of
// KH*KW*C values is written, ordered (kh, kw, c) to match an HWIO filter
// reshaped to [KH*KW*C, OC]. Window taps that fall in the padding get `padValue`.

export function im2col(
  x: usize,
  out: usize,
  batch: i32,
  h: i32,
  w: i32,
  c: i32,
  kh: i32,
  kw: i32,
  strideH: i32,
  strideW: i32,
  dilationH: i32,
  dilationW: i32,
  padTop: i32,
  padLeft: i32,
  outH: i32,
  outW: i32,
  padValue: i64,
): void {
  const tapBytes = (<usize>c) << 3;
  const imageBytes = <usize>h * <usize>w * tapBytes;
  let dst = out;
  for (let b = 0; b < batch; b++) {
    const image = x + <usize>b * imageBytes;
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        const ih0 = oh * strideH - padTop;
        const iw0 = ow * strideW - padLeft;
        for (let i = 0; i < kh; i++) {
          const ih = ih0 + i * dilationH;
          for (let j = 0; j < kw; j++) {
            const iw = iw0 + j * dilationW;
            if (ih >= 0 && ih < h && iw >= 0 && iw < w) {
              memory.copy(dst, image + (<usize>ih * <usize>w + <usize>iw) * tapBytes, tapBytes);
            } else {
              for (let q: usize = 0; q < tapBytes; q += 8) store<i64>(dst + q, padValue);
            }
            dst += tapBytes;
          }
        }
      }
    }
  }
}

// Entry of the ring's WebAssembly module (compiled by scripts/build-wasm.js).
//
// Memory layout is managed from JavaScript: it places inputs, outputs and scratch
// from `heapBase()` upward and grows the exported memory as needed; nothing here
// allocates, so the module runs on AssemblyScript's stub runtime.

export * from "./elementwise";
export * from "./matmul";
export * from "./im2col";
export * from "./reduce";
export * from "./and-gates";

/** First byte of linear memory free for the caller's buffers. */
export function heapBase(): usize {
  return __heap_base;
}

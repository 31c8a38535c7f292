/** esbuild's binary loader: the bytes of the file (the browser bundle embeds build/ring.wasm so). */
declare module "*.wasm" {
  const bytes: Uint8Array;
  export default bytes;
}

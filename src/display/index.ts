/**
 * Rich display for notebooks: MIME bundles for HTML, tables, Vega-Lite charts,
 * progress bars and tensors, sent through the tsyft kernel's display bridge
 * (see src/core/display-protocol.ts). Outside a kernel everything prints its
 * text/plain form.
 *
 * @example
 * ```ts
 * import * as sy from "tsyft";
 * sy.display(sy.table([{ worker: "alice", objects: 3 }]));
 * ```
 */
export { display, mimeBundle, updateDisplay, type DisplayHandle, type DisplayOptions } from "./display";
export { html, htmlToText, Html } from "./html";
export { table, isArqueroTable, DataTable, type ArqueroLike, type TableOptions, type TableRows } from "./table";
export { vegaLite, VegaLiteChart, VEGALITE_MIME, type VegaLiteSpec } from "./vega";
export { progress, ProgressBar, type ProgressOptions } from "./progress";
export { installDisplays, type TfLike, type ArqueroModuleLike } from "./install";
export { tensorBundle, tensorHtml, type RenderableTensor, type TensorRenderOptions } from "./tensor";

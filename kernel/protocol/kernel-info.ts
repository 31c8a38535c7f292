/**
 * kernel_info_reply content: what this kernel is and which language it runs.
 * language_info.version is the version of the TypeScript compiler that
 * compiles cells (tslab's fork), not the one the repository builds with.
 */
import { cellCompilerVersion, tslabVersion, tsyftVersion } from "../paths";
import { PROTOCOL_VERSION } from "./wire";

export const KERNEL_NAME = "tsyft";
export const DISPLAY_NAME = "Syft (TypeScript)";

export function kernelInfo(): Record<string, unknown> {
  const typescript = cellCompilerVersion();
  return {
    status: "ok",
    protocol_version: PROTOCOL_VERSION,
    implementation: "tsyft",
    implementation_version: tsyftVersion(),
    language_info: {
      name: "typescript",
      version: typescript,
      mimetype: "text/typescript",
      file_extension: ".ts",
      pygments_lexer: "typescript",
      codemirror_mode: { name: "javascript", typescript: true },
      nbconvert_exporter: "script",
    },
    banner:
      `${DISPLAY_NAME} ${tsyftVersion()}: TypeScript ${typescript} (compiled by tslab ${tslabVersion()}), ` +
      `Node.js ${process.version}. Top-level await works; import * as sy from "tsyft".`,
    help_links: [
      { text: "TypeScript handbook", url: "https://www.typescriptlang.org/docs/handbook/intro.html" },
      { text: "TensorFlow.js API", url: "https://js.tensorflow.org/api/latest/" },
      { text: "Arquero API", url: "https://idl.uw.edu/arquero/api/" },
      { text: "Vega-Lite documentation", url: "https://vega.github.io/vega-lite/docs/" },
      { text: "tslab", url: "https://github.com/yunabe/tslab" },
      { text: "Node.js API", url: "https://nodejs.org/docs/latest-v20.x/api/" },
    ],
    debugger: false,
  };
}

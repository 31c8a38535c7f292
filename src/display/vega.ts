/**
 * `vegaLite(spec)`: a Vega-Lite chart with an SVG rendered in Node.
 *
 * The bundle carries the spec (application/vnd.vegalite.v5+json, drawn
 * interactively by JupyterLab) and an SVG (image/svg+xml, for frontends and
 * saved notebooks without a Vega renderer), plus a text/plain summary. The SVG
 * comes from Vega 5's headless SVG string renderer: Vega-Lite compiles the
 * spec, a View with renderer "none" runs the dataflow, and no canvas is needed
 * (text widths are estimated).
 */
import { DISPLAY, type Displayable, type MimeBundle } from "../core/display-protocol";
import { ErrorCode, TsyftError } from "../core/errors";

export const VEGALITE_MIME = "application/vnd.vegalite.v5+json";
const SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

type Vega = typeof import("vega");
type VegaLite = typeof import("vega-lite");

let vegaModule: Vega | undefined;
let vegaLiteModule: VegaLite | undefined;
/* Loaded on first use: both libraries take a while to load. */
function vega(): Vega {
  vegaModule ??= require("vega") as Vega;
  return vegaModule;
}
function vegaLiteLib(): VegaLite {
  vegaLiteModule ??= require("vega-lite") as VegaLite;
  return vegaLiteModule;
}

/**
 * A Vega-Lite specification (see https://vega.github.io/vega-lite/docs/): a
 * plain JSON object, or a vega-lite `TopLevelSpec` as `sy.data`'s charts return.
 */
export type VegaLiteSpec = object;

/** Private View fields the headless renderer sizes itself with (vega-view's renderHeadless). */
interface ViewInternals {
  _viewWidth?: number;
  _viewHeight?: number;
  _origin?: [number, number];
}

/**
 * A Vega-Lite chart that renders itself in notebooks; made by {@link vegaLite}.
 *
 * @example
 * ```ts
 * const chart = sy.vegaLite(spec);
 * const svg = await chart.toSVG();   // the SVG alone, e.g. to save it
 * ```
 */
export class VegaLiteChart implements Displayable {
  readonly spec: Record<string, unknown>;
  private svg: string | undefined;

  constructor(spec: VegaLiteSpec) {
    if (spec === null || typeof spec !== "object" || Array.isArray(spec)) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `vegaLite() takes a Vega-Lite spec object, got ${Array.isArray(spec) ? "an array" : typeof spec}.`,
      );
    }
    this.spec = { $schema: SCHEMA, ...(JSON.parse(JSON.stringify(spec)) as Record<string, unknown>) };
  }

  /** The compiled Vega spec. */
  toVega(): Record<string, unknown> {
    try {
      return vegaLiteLib().compile(this.spec as never).spec as unknown as Record<string, unknown>;
    } catch (error) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `vegaLite(): the spec does not compile: ${(error as Error).message}`,
        {},
        { cause: error },
      );
    }
  }

  private view(): import("vega").View {
    const v = vega();
    return new v.View(v.parse(this.toVega() as never), { renderer: "none" });
  }

  /** Renders the SVG, loading remote data (`data.url`) if the spec has any. */
  async toSVG(): Promise<string> {
    this.svg ??= await this.view().toSVG();
    return this.svg;
  }

  /** Renders the SVG now so the next display includes it; needed only for specs that load data from URLs. */
  async render(): Promise<this> {
    await this.toSVG();
    return this;
  }

  /**
   * The SVG rendered synchronously, or undefined when the spec loads data
   * (call `await chart.render()` first) or the renderer is unavailable.
   */
  svgSync(): string | undefined {
    if (this.svg !== undefined) return this.svg;
    if (JSON.stringify(this.spec).includes('"url"')) return undefined;
    const v = vega();
    const view = this.view();
    view.run();
    const internals = view as unknown as ViewInternals;
    if (internals._viewWidth === undefined || internals._viewHeight === undefined || !internals._origin)
      return undefined;
    const padding = view.padding() as { left: number; right: number; top: number; bottom: number };
    const width = Math.max(0, internals._viewWidth + padding.left + padding.right);
    const height = Math.max(0, internals._viewHeight + padding.top + padding.bottom);
    const origin = [padding.left + internals._origin[0], padding.top + internals._origin[1]];
    const SVGStringRenderer = (v as unknown as { SVGStringRenderer: new (loader: unknown) => unknown })
      .SVGStringRenderer;
    const renderer = new SVGStringRenderer(view.loader()) as {
      initialize(el: null, w: number, h: number, o: number[], scale: number): { background(bg: unknown): unknown };
      render(scene: unknown): unknown;
      svg(): string;
    };
    renderer.initialize(null, width, height, origin, 1).background(view.background());
    renderer.render((view.scenegraph() as unknown as { root: unknown }).root);
    this.svg = renderer.svg();
    view.finalize();
    return this.svg;
  }

  /** One line for text-only frontends. */
  toString(): string {
    const mark = this.spec.mark;
    const markName = typeof mark === "string" ? mark : (mark as { type?: string } | undefined)?.type;
    const values = (this.spec.data as { values?: unknown[] } | undefined)?.values;
    const parts = [
      markName ? `${markName} chart` : "chart",
      Array.isArray(values) ? `${values.length} data rows` : undefined,
    ];
    const title = typeof this.spec.title === "string" ? ` "${this.spec.title}"` : "";
    return `<Vega-Lite${title}: ${parts.filter(Boolean).join(", ")}>`;
  }

  [DISPLAY](): MimeBundle {
    let svg: string | undefined;
    try {
      svg = this.svgSync();
    } catch (error) {
      if (error instanceof TsyftError) throw error;
      svg = undefined;
    }
    return {
      [VEGALITE_MIME]: this.spec,
      ...(svg !== undefined ? { "image/svg+xml": svg } : {}),
      "text/plain": this.toString(),
    };
  }
}

/**
 * A Vega-Lite chart for notebooks: rendered interactively where the frontend
 * supports Vega-Lite 5, as an SVG (made in Node, no canvas) everywhere else.
 * Specs with `data.url` need `await chart.render()` before the SVG exists.
 *
 * @example
 * ```ts
 * sy.vegaLite({
 *   data: { values: [{ op: "mul", ms: 3.1 }, { op: "matmul", ms: 12.4 }] },
 *   mark: "bar",
 *   encoding: { x: { field: "op", type: "nominal" }, y: { field: "ms", type: "quantitative" } },
 * })
 * ```
 */
export function vegaLite(spec: VegaLiteSpec): VegaLiteChart {
  return new VegaLiteChart(spec);
}

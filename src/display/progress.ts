/**
 * `progress(total)`: a progress bar shown once and redrawn in place
 * (update_display_data), at most every `throttleMs`.
 */
import { DISPLAY, escapeHtml, kernelBridge, type Displayable, type MimeBundle } from "../core/display-protocol";
import { ErrorCode, TsyftError } from "../core/errors";
import { display, type DisplayHandle } from "./display";

export interface ProgressOptions {
  /** Shown before the bar. */
  label?: string;
  /** Minimum milliseconds between redraws (default 100); the final state is always drawn. */
  throttleMs?: number;
  /** Characters of the text/plain bar (default 30). */
  width?: number;
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  return `${m}m${String(Math.round(seconds - m * 60)).padStart(2, "0")}s`;
}

/**
 * A progress bar output; made by {@link progress}.
 *
 * @example
 * ```ts
 * const bar = sy.progress(3);
 * bar.tick(); bar.tick(); bar.done();
 * bar.fraction;   // 1
 * ```
 */
export class ProgressBar implements Displayable {
  readonly total: number;
  readonly label: string;
  value = 0;
  /** Free text after the numbers (loss, accuracy...). */
  extra = "";
  finished = false;
  /** Redraws sent (the first display included). */
  draws = 0;
  private readonly startedAt = Date.now();
  private readonly throttleMs: number;
  private readonly width: number;
  private lastDraw = 0;
  private trailing: NodeJS.Timeout | undefined;
  private readonly handle: DisplayHandle | undefined;

  constructor(total: number, options: ProgressOptions = {}) {
    if (!(Number.isFinite(total) && total >= 0)) {
      throw new TsyftError(ErrorCode.INVALID_ARGUMENT, `progress(): total must be a finite number >= 0, got ${total}.`);
    }
    this.total = total;
    this.label = options.label ?? "";
    this.throttleMs = options.throttleMs ?? 100;
    this.width = options.width ?? 30;
    // In a kernel the bar is an output redrawn in place; elsewhere only the final line is printed.
    if (kernelBridge()) {
      this.handle = display(this);
      this.draws = 1;
      this.lastDraw = Date.now();
    }
  }

  /** Fraction done, 0..1. */
  get fraction(): number {
    return this.total === 0 ? (this.finished ? 1 : 0) : Math.min(1, Math.max(0, this.value / this.total));
  }

  /** Advances by `n` (default 1). Returns nothing, so a loop's last `bar.tick()` shows no second bar. */
  tick(n = 1): void {
    this.value += n;
    this.redraw(false);
  }

  /** Sets the value, and optionally the text after the numbers. */
  set(value: number, extraText?: string): void {
    this.value = value;
    if (extraText !== undefined) this.extra = extraText;
    this.redraw(false);
  }

  /** Marks the bar complete and draws its final state. */
  done(extraText?: string): void {
    if (extraText !== undefined) this.extra = extraText;
    if (this.value < this.total) this.value = this.total;
    this.finished = true;
    this.redraw(true);
    if (!this.handle) console.log(this.toString());
  }

  private redraw(force: boolean): void {
    if (!this.handle) return;
    const wait = this.lastDraw + this.throttleMs - Date.now();
    if (!force && wait > 0) {
      // Draw the latest state once the throttle window ends, if nothing else does.
      if (!this.trailing) {
        this.trailing = setTimeout(() => this.redraw(true), wait);
        this.trailing.unref?.();
      }
      return;
    }
    if (this.trailing) clearTimeout(this.trailing);
    this.trailing = undefined;
    this.lastDraw = Date.now();
    this.draws++;
    this.handle.update(this);
  }

  private numbers(): string {
    const elapsed = (Date.now() - this.startedAt) / 1000;
    const percent = Math.floor(this.fraction * 100);
    const rate = this.value > 0 ? elapsed / this.value : NaN;
    const eta = this.finished ? "" : `, eta ${formatSeconds((this.total - this.value) * rate)}`;
    return `${this.value}/${this.total} (${percent}%) ${formatSeconds(elapsed)}${eta}`;
  }

  toString(): string {
    const filled = Math.round(this.fraction * this.width);
    const bar = "█".repeat(filled) + "░".repeat(this.width - filled);
    const label = this.label ? `${this.label} ` : "";
    return `${label}${bar} ${this.numbers()}${this.extra ? ` ${this.extra}` : ""}${this.finished ? " ✓" : ""}`;
  }

  toHtml(): string {
    const percent = (this.fraction * 100).toFixed(1);
    const color = this.finished ? "#4caf50" : "#2196f3";
    const label = this.label ? `<span style="margin-right:8px">${escapeHtml(this.label)}</span>` : "";
    return (
      `<div class="tsyft-progress" style="display:flex;align-items:center;font-family:monospace;font-size:12px">${label}` +
      `<div style="width:240px;height:12px;border:1px solid #bbb;border-radius:3px;background:#eee;overflow:hidden">` +
      `<div style="width:${percent}%;height:100%;background:${color}"></div></div>` +
      `<span style="margin-left:8px">${escapeHtml(this.numbers())}${this.extra ? ` ${escapeHtml(this.extra)}` : ""}${this.finished ? " ✓" : ""}</span></div>`
    );
  }

  [DISPLAY](): MimeBundle {
    return { "text/html": this.toHtml(), "text/plain": this.toString() };
  }
}

/**
 * A progress bar: displayed once when created, then redrawn in place by
 * `tick`, `set` and `done` (at most every 100 ms). Outside a notebook it
 * prints one line when done.
 *
 * @example
 * ```ts
 * const bar = sy.progress(epochs, { label: "training" });
 * for (let e = 0; e < epochs; e++) {
 *   await trainEpoch();
 *   bar.set(e + 1, `loss ${loss.toFixed(3)}`);
 * }
 * bar.done();
 * ```
 */
export function progress(total: number, options: ProgressOptions = {}): ProgressBar {
  return new ProgressBar(total, options);
}

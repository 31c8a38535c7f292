/**
 * `AsyncLocalStorage` for the browser bundle: the browser has no async context, so a scope lasts
 * for the synchronous part of `run` (withConfig overrides do not follow awaits there; `configure`
 * sets what a page needs).
 *
 * @example
 * ```ts
 * new AsyncLocalStorage<number>().run(1, () => 2);   // 2
 * ```
 */
export class AsyncLocalStorage<T> {
  private stack: T[] = [];

  getStore(): T | undefined {
    return this.stack[this.stack.length - 1];
  }

  run<R>(store: T, fn: () => R): R {
    this.stack.push(store);
    try {
      return fn();
    } finally {
      this.stack.pop();
    }
  }
}

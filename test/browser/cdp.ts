/**
 * A small Chrome DevTools Protocol client over `ws`, enough to drive Debian's
 * headless Chromium from tests: start the browser, open a page, evaluate
 * JavaScript in it, wait for conditions, take screenshots. Nothing is
 * downloaded: the browser is the system's (`chromium`), or the test skips.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import WebSocket from "ws";

/** Where Debian puts Chromium; TSYFT_CHROMIUM overrides. */
export function chromiumPath(): string | undefined {
  const candidates = [process.env.TSYFT_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  for (const candidate of candidates) if (candidate && fs.existsSync(candidate)) return candidate;
  const found = spawnSync("sh", ["-c", "command -v chromium || command -v chromium-browser"], { encoding: "utf8" });
  return found.status === 0 && found.stdout.trim() ? found.stdout.trim() : undefined;
}

interface Pending {
  resolve: (value: Record<string, unknown>) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** One headless Chromium and its DevTools connection. */
export class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Listeners of DevTools events (messages with a method and no id), e.g. Network.webSocketFrameSent. */
  readonly events = new Set<(method: string, params: Record<string, unknown>, sessionId?: string) => void>();

  private constructor(
    private readonly child: ChildProcess,
    private readonly socket: WebSocket,
    private readonly profile: string,
  ) {
    socket.on("message", (raw) => {
      const message = JSON.parse(String(raw)) as {
        id?: number;
        result?: Record<string, unknown>;
        error?: unknown;
        method?: string;
        params?: Record<string, unknown>;
        sessionId?: string;
      };
      if (message.id === undefined) {
        if (message.method)
          for (const listener of this.events) listener(message.method, message.params ?? {}, message.sessionId);
        return;
      }
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      clearTimeout(waiter.timer);
      if (message.error) waiter.reject(new Error(`CDP error: ${JSON.stringify(message.error)}`));
      else waiter.resolve(message.result ?? {});
    });
    socket.on("close", () => {
      for (const [, waiter] of this.pending) waiter.reject(new Error("the browser closed its DevTools connection"));
      this.pending.clear();
    });
  }

  /** Starts headless Chromium on a free DevTools port with a throwaway profile. */
  static async launch(executable: string, width = 1400, height = 1000): Promise<Browser> {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-chromium-"));
    const child = spawn(
      executable,
      [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--remote-debugging-port=0",
        `--user-data-dir=${profile}`,
        `--window-size=${width},${height}`,
        "about:blank",
      ],
      // Its own process group: Chromium's helpers (zygote, renderers, crashpad) are stopped with it.
      { stdio: ["ignore", "ignore", "pipe"], detached: true },
    );
    const endpoint = await new Promise<string>((resolve, reject) => {
      let stderr = "";
      const timer = setTimeout(() => reject(new Error(`Chromium did not start in 30 s:\n${stderr}`)), 30_000);
      child.stderr!.on("data", (chunk) => {
        stderr += chunk;
        const match = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.once("exit", (code) => reject(new Error(`Chromium exited (${code}):\n${stderr}`)));
    });
    const socket = new WebSocket(endpoint, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    return new Browser(child, socket, profile);
  }

  /** Sends one command (to a page when `sessionId` is given). */
  send(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
    timeoutMs = 60_000,
  ): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`CDP ${method} got no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  /** Opens a new tab. */
  async newPage(): Promise<Page> {
    const { targetId } = (await this.send("Target.createTarget", { url: "about:blank" })) as { targetId: string };
    const { sessionId } = (await this.send("Target.attachToTarget", { targetId, flatten: true })) as {
      sessionId: string;
    };
    const page = new Page(this, sessionId, targetId);
    await page.send("Page.enable");
    await page.send("Runtime.enable");
    return page;
  }

  async close(): Promise<void> {
    try {
      await this.send("Browser.close", {}, undefined, 5_000);
    } catch {
      // it may be gone already
    }
    this.socket.close();
    const exited = (ms: number) =>
      this.child.exitCode !== null || this.child.signalCode !== null
        ? Promise.resolve()
        : Promise.race([
            new Promise((resolve) => this.child.once("exit", resolve)),
            new Promise((resolve) => setTimeout(resolve, ms)),
          ]);
    await exited(10_000); // Browser.close lets it write its profile and go
    try {
      process.kill(-this.child.pid!, "SIGKILL"); // whatever of the group is left
    } catch {
      // the group is gone
    }
    await exited(5_000);
    try {
      fs.rmSync(this.profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    } catch (error) {
      // A helper that outlived the group may still write there; a temporary profile left behind is not the test's
      // subject, so say so rather than fail a test whose checks passed.
      console.warn(`Chromium's temporary profile ${this.profile} was not removed: ${(error as Error).message}`);
    }
  }
}

/** A tab. */
export class Page {
  constructor(
    private readonly browser: Browser,
    private readonly sessionId: string,
    readonly targetId: string,
  ) {}

  send(method: string, params: Record<string, unknown> = {}, timeoutMs?: number): Promise<Record<string, unknown>> {
    return this.browser.send(method, params, this.sessionId, timeoutMs);
  }

  /** Calls `listener` with the params of each DevTools event `method` of this tab; returns a function that stops it. */
  on(method: string, listener: (params: Record<string, unknown>) => void): () => void {
    const forward = (m: string, params: Record<string, unknown>, sessionId?: string) => {
      if (m === method && sessionId === this.sessionId) listener(params);
    };
    this.browser.events.add(forward);
    return () => this.browser.events.delete(forward);
  }

  async goto(url: string): Promise<void> {
    await this.send("Page.navigate", { url });
  }

  /** Evaluates `expression` (awaiting a promise) and returns its JSON value; a thrown error rejects. */
  async evaluate<T>(expression: string): Promise<T> {
    const reply = (await this.send("Runtime.evaluate", {
      expression,
      awaitPromise: true,
      returnByValue: true,
    })) as { result: { value?: T }; exceptionDetails?: { text: string; exception?: { description?: string } } };
    if (reply.exceptionDetails) {
      const details = reply.exceptionDetails;
      throw new Error(`in the page: ${details.exception?.description ?? details.text}`);
    }
    return reply.result.value as T;
  }

  /** Polls `expression` until it is truthy; returns that value. */
  async waitFor<T>(expression: string, what: string, timeoutMs: number, everyMs = 250): Promise<T> {
    const end = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const value = await this.evaluate<T>(expression);
        if (value) return value;
        last = value;
      } catch (error) {
        last = (error as Error).message; // the page may be navigating
      }
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last})`);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }

  /** A full-page PNG screenshot written to `file`. */
  async screenshot(file: string): Promise<void> {
    const { data } = (await this.send("Page.captureScreenshot", { format: "png", captureBeyondViewport: true })) as {
      data: string;
    };
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, Buffer.from(data, "base64"));
  }
}

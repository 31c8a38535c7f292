/**
 * Entry point Jupyter starts: `node dist/kernel/launcher.js <connection_file>`.
 *
 * Binds the sockets at once (so kernel_info_reply comes back fast) while the
 * execution worker loads the TypeScript compiler in the background; the first
 * execute_request waits for it.
 */
import { Engine, closeEngines } from "./engine/engine";
import { KernelServer } from "./protocol/server";
import { readConnectionFile } from "./protocol/sockets";

async function main(): Promise<void> {
  const connectionFile = process.argv[2];
  if (!connectionFile) {
    process.stderr.write(
      "usage: node dist/kernel/launcher.js <connection_file>\n(Jupyter passes the connection file; see `npm run kernel:install`.)\n",
    );
    process.exit(2);
  }
  const info = readConnectionFile(connectionFile);

  let server: KernelServer | undefined;
  const engine = Engine.create({
    cwd: process.cwd(),
    fallbackSink: {
      stream: (name, text) => (server ? server.lateOutput.stream(name, text) : process.stderr.write(text)),
      display: (data, metadata, displayId, update) => server?.lateOutput.display(data, metadata, displayId, update),
    },
  });

  let exiting = false;
  const exit = async (code: number) => {
    if (exiting) return;
    exiting = true;
    // Pending timers of cells must not keep the kernel alive: stop the worker, flush, exit.
    const force = setTimeout(() => process.exit(code), 3000);
    force.unref();
    await engine.close().catch(() => undefined);
    closeEngines();
    await server?.close().catch(() => undefined);
    process.exit(code);
  };

  server = await KernelServer.start(info, engine, { onShutdown: () => exit(0) });

  process.on("SIGINT", () => void engine.interrupt("SIGINT"));
  process.on("SIGTERM", () => void exit(0));
  process.on("uncaughtException", (error) => process.stderr.write(`tsyft kernel: uncaught ${error.stack ?? error}\n`));
  process.on("unhandledRejection", (reason) =>
    process.stderr.write(`tsyft kernel: unhandled rejection ${String(reason)}\n`),
  );

  // Exit when the process that started us goes away (as ipykernel's parent poller does).
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void exit(0);
  }, 2000).unref();

  engine.whenReady().catch((error) => {
    process.stderr.write(`tsyft kernel: the execution worker did not start: ${error?.stack ?? error}\n`);
  });
}

void main().catch((error) => {
  process.stderr.write(`tsyft kernel: failed to start: ${error?.stack ?? error}\n`);
  process.exit(1);
});

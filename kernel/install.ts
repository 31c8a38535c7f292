/**
 * `npm run kernel:install`: installs the "Syft (TypeScript)" kernelspec for
 * the current user.
 *
 *   node dist/kernel/install.js [--interrupt-mode signal|message] [--print]
 *
 * --print writes the kernel.json it would install to stdout and installs nothing.
 */
import { installKernelSpec, kernelSpec } from "./kernelspec";
import { launcherPath } from "./paths";
import * as fs from "fs";

function main(argv: string[]): number {
  let interruptMode: "signal" | "message" = "signal";
  let print = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--print") print = true;
    else if (arg === "--interrupt-mode" && (argv[i + 1] === "signal" || argv[i + 1] === "message"))
      interruptMode = argv[++i] as "signal" | "message";
    else {
      process.stderr.write(
        `unknown argument ${arg}\nusage: node dist/kernel/install.js [--interrupt-mode signal|message] [--print]\n`,
      );
      return 2;
    }
  }
  if (print) {
    process.stdout.write(JSON.stringify(kernelSpec({ interruptMode }), null, 2) + "\n");
    return 0;
  }
  if (!fs.existsSync(launcherPath())) {
    process.stderr.write(`${launcherPath()} does not exist: run \`npm run build\` first.\n`);
    return 1;
  }
  const result = installKernelSpec({ interruptMode });
  process.stdout.write(
    `Installed the "Syft (TypeScript)" kernelspec (name: tsyft) in ${result.location}\n  via ${result.method}\n`,
  );
  return 0;
}

process.exitCode = main(process.argv.slice(2));

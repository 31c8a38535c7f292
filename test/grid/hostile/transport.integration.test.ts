// Issue 10: "`tsyft node` and `tsyft gateway` bind 0.0.0.0 by default; there
// is no TLS option." From outside, with the CLI: where the sockets listen,
// whether a public bind without credentials is refused, and whether a grid
// served over TLS keeps an eavesdropper (a relay on the path) from reading
// anything while clients that trust the grid's CA get through.
import { execFileSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import * as sy from "../../../src";
import { createGridCredentials } from "../../../src/grid/auth";
import { spawnCli, stopChild, waitListening, type ListeningInfo } from "../../../src/grid/processes";
import { gridClient } from "./api";
import { RawNodeSocket } from "./attacker";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-transport-"));
const children: ChildProcess[] = [];
const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
  await Promise.all(children.splice(0).map((c) => stopChild(c)));
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Starts a CLI server and resolves with its listening line, or with how it exited. */
async function start(
  args: string[],
  id: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ info?: ListeningInfo; exit?: string }> {
  const child = spawnCli(args, { env });
  children.push(child);
  let output = "";
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  try {
    return { info: await waitListening(child, id, 120_000) };
  } catch (error) {
    return { exit: `${(error as Error).message}\n${output}` };
  }
}

/** The addresses a TCP port listens on (Linux: /proc/net/tcp and tcp6, state 0A = LISTEN). */
function listeningAddresses(port: number): string[] {
  const out: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, "utf8").split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== "0A") continue;
      const [address, hexPort] = local.split(":");
      if (parseInt(hexPort!, 16) !== port) continue;
      out.push(address!.length === 8 ? ipv4(address!) : address!);
    }
  }
  return out;
}

function ipv4(hex: string): string {
  return [3, 2, 1, 0].map((i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16)).join(".");
}

describe("where the CLI listens", () => {
  it("tsyft node and tsyft gateway bind 127.0.0.1 unless --host says otherwise", async () => {
    const node = await start(["node", "--id", "solo", "--port", "0"], "solo");
    const gateway = await start(["gateway", "--port", "0"], "gateway");
    expect(node.info, node.exit).toBeDefined();
    expect(gateway.info, gateway.exit).toBeDefined();
    expect(listeningAddresses(node.info!.port), "the node's listening addresses").toEqual(["127.0.0.1"]);
    expect(listeningAddresses(gateway.info!.port), "the gateway's listening addresses").toEqual(["127.0.0.1"]);
  });

  it("a non-loopback --host without credentials is refused: the server does not start", async () => {
    const node = await start(["node", "--id", "solo", "--port", "0", "--host", "0.0.0.0"], "solo");
    const gateway = await start(["gateway", "--port", "0", "--host", "0.0.0.0"], "gateway");
    expect(node.info, "a node listening on 0.0.0.0 without credentials").toBeUndefined();
    expect(gateway.info, "a gateway listening on 0.0.0.0 without a grid key").toBeUndefined();
    expect.soft(node.exit).toMatch(/credential|grid key|enroll|admin/i);
    expect.soft(gateway.exit).toMatch(/credential|grid key|admin/i);
  });
});

describe("TLS", () => {
  /** A self-signed certificate for localhost and 127.0.0.1, made now with Debian's openssl. */
  function certificate(): { cert: string; key: string; pem: string } {
    const cert = path.join(dir, "cert.pem");
    const key = path.join(dir, "key.pem");
    if (!fs.existsSync(cert)) {
      execFileSync("openssl", [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
      ]);
    }
    return { cert, key, pem: fs.readFileSync(cert, "utf8") };
  }

  /** A TCP relay on the path to `port` that records every byte both ways (the eavesdropper). */
  async function relay(port: number): Promise<{ port: number; seen: Buffer[] }> {
    const seen: Buffer[] = [];
    const sockets = new Set<net.Socket>();
    const server = net.createServer((inbound) => {
      const outbound = net.connect(port, "127.0.0.1");
      for (const s of [inbound, outbound]) {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
      }
      inbound.on("data", (d: Buffer) => seen.push(d));
      outbound.on("data", (d: Buffer) => seen.push(d));
      inbound.pipe(outbound).pipe(inbound);
      inbound.on("error", () => outbound.destroy());
      outbound.on("error", () => inbound.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Whatever a client left open (a reconnection under load) must not hold the server open.
          for (const s of sockets) s.destroy();
        }),
    );
    return { port: (server.address() as net.AddressInfo).port, seen };
  }

  it("a node with --tls-cert/--tls-key serves wss: clients with the CA get through, the relay reads nothing", async () => {
    const { cert, key, pem } = certificate();
    // The node enrolls itself in a grid whose admin token it is given; the client signs in as that admin.
    const { adminToken } = createGridCredentials();
    const node = await start(["node", "--id", "solo", "--port", "0", "--tls-cert", cert, "--tls-key", key], "solo", {
      ...process.env,
      TSYFT_ADMIN_TOKEN: adminToken,
    });
    expect(node.info, node.exit).toBeDefined();
    expect(node.info!.url).toMatch(/^wss:\/\//);
    const hook = sy.hook(tf);
    const eavesdropper = await relay(node.info!.port);
    const trusting = gridClient(hook, `wss://127.0.0.1:${eavesdropper.port}`, "solo", adminToken, { ca: pem });
    cleanups.push(() => trusting.close());
    expect(await trusting.ping()).toBe("solo");
    const secret = tf.tensor([31337.5, -271828.25]);
    const pointer = secret.send(trusting);
    expect(Array.from((await pointer.get()).dataSync())).toEqual([31337.5, -271828.25]);
    const wire = Buffer.concat(eavesdropper.seen);
    expect(wire.length).toBeGreaterThan(0);
    for (const plain of [Buffer.from("solo"), Buffer.from(new Float32Array([31337.5, -271828.25]).buffer)]) {
      expect(wire.includes(plain), `the relay read ${JSON.stringify(plain.toString("latin1"))}`).toBe(false);
    }
    // Without the CA the certificate is not trusted (TSYFT_ERR_TLS: a failed verification has its own code, so that
    // users are told to pass { ca } rather than to check the address); plain ws:// gets no grid at all.
    const doubting = gridClient(hook, node.info!.url, "solo");
    cleanups.push(() => doubting.close());
    await expect(doubting.connect()).rejects.toMatchObject({ code: sy.ErrorCode.TLS });
    const plainWs = await RawNodeSocket.open(`ws://127.0.0.1:${node.info!.port}`).then(
      (s) => (s.close(), "opened"),
      () => "refused",
    );
    expect(plainWs, "a plain ws:// socket to the TLS port").toBe("refused");
  });

  it("a gateway with --tls-cert/--tls-key serves https to clients with the CA", async () => {
    const { cert, key, pem } = certificate();
    const gateway = await start(["gateway", "--port", "0", "--tls-cert", cert, "--tls-key", key], "gateway");
    expect(gateway.info, gateway.exit).toBeDefined();
    expect(gateway.info!.url).toMatch(/^https:\/\//);
    const status = await new Promise<number>((resolve, reject) =>
      https
        .get(`https://127.0.0.1:${gateway.info!.port}/health`, { ca: pem }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on("error", reject),
    );
    expect(status).toBe(200);
  });
});

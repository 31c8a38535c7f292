// TLS on the grid: nodes and the gateway serve wss/https on their one port,
// clients and peers verify the certificate against the grid's CA (made here
// with openssl), and a client without that CA is refused with TSYFT_ERR_TLS
// saying to pass `ca`.
import * as fs from "node:fs";
import * as http from "node:http";
import * as tls from "node:tls";
import * as tf from "@tensorflow/tfjs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as sy from "../../src";
import * as grid from "../../src/grid";
import { httpJson } from "../../src/grid/http-util";
import { eventually, maxDiff } from "./helpers";
import { makeTestCertificates, opensslMissing, type TestCertificates } from "./tls-helpers";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

let certs: TestCertificates;
beforeAll(() => {
  if (!opensslMissing) certs = makeTestCertificates();
});
afterAll(() => certs?.remove());

/** One grid's credentials: the TLS nodes and gateway of a test belong to the same grid. */
const credentials = grid.createGridCredentials();

async function tlsNode(id: string, options: Partial<grid.NodeOptions> = {}): Promise<grid.GridNode> {
  const node = await grid.startNode({
    id,
    port: 0,
    tf,
    adminToken: credentials.adminToken,
    tls: { cert: certs.cert, key: certs.key },
    ca: certs.ca,
    ...options,
  });
  cleanups.push(() => node.close());
  return node;
}

describe.skipIf(opensslMissing !== undefined)(
  `TLS grid${opensslMissing ? ` (skipped: ${opensslMissing})` : ""}`,
  () => {
    it("nodes linked over wss run a secure op end to end; the gateway over https lists them", async () => {
      const gateway = await grid.startGateway({
        port: 0,
        tls: { cert: certs.cert, key: certs.key },
        gridKey: credentials.gridKey,
      });
      cleanups.push(() => gateway.close());
      expect(gateway.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const nodes = await Promise.all(["bob", "charlie", "dan"].map((id) => tlsNode(id, { gateway: gateway.url })));
      // A node links only to the address its gateway lists: wait until all three have joined.
      await eventually(() => gateway.nodes.list().length === 3, 15_000, "three nodes joined over https");
      for (const node of nodes) expect(node.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);

      const hook = sy.hook(tf);
      // The CA as PEM text for one client, as a file path for the others.
      const pem = fs.readFileSync(certs.ca, "utf8");
      const [bob, charlie, dan] = nodes.map(
        (n, i) =>
          new grid.WebsocketGridClient(hook, n.url, {
            id: n.id,
            ca: i === 0 ? pem : certs.ca,
            token: credentials.adminToken,
          }),
      ) as [grid.WebsocketGridClient, grid.WebsocketGridClient, grid.WebsocketGridClient];
      cleanups.push(() => Promise.all([bob, charlie, dan].map((c) => c.close())));
      // The peer links are wss too: each node verifies the others with its `ca`.
      await grid.connectAllNodes([bob, charlie, dan]);

      const x = tf.tensor([1.5, -2.25, 3]);
      const y = tf.tensor([2, 0.5, -1]);
      const product = x
        .fixPrecision()
        .share(bob, charlie, { cryptoProvider: dan })
        .mul(y.fixPrecision().share(bob, charlie, { cryptoProvider: dan }));
      const result = ((await product.get()) as sy.FixedPrecisionTensor).floatPrecision();
      expect(maxDiff(result, x.mul(y))).toBeLessThan(1e-3);

      const gatewayClient = new grid.GatewayClient(gateway.url, { ca: certs.ca });
      await eventually(async () => (await gatewayClient.nodes()).length === 3, 10_000, "three nodes joined over https");
      expect((await gatewayClient.nodes()).map((n) => n.address).sort()).toEqual(nodes.map((n) => n.url).sort());
    });

    it("a client without the CA is refused with TSYFT_ERR_TLS that says to pass ca; TSYFT_CA_FILE is the default ca", async () => {
      const node = await tlsNode("bob");
      const hook = sy.hook(tf);
      const stranger = new grid.WebsocketGridClient(hook, node.url, { id: "bob", reconnect: false });
      cleanups.push(() => stranger.close());
      await expect(stranger.connect()).rejects.toMatchObject({
        code: sy.ErrorCode.TLS,
        message: expect.stringMatching(/could not be verified.*pass \{ ca/s),
      });

      const gateway = await grid.startGateway({ port: 0, tls: { cert: certs.cert, key: certs.key } });
      cleanups.push(() => gateway.close());
      await expect(new grid.GatewayClient(gateway.url).nodes()).rejects.toMatchObject({ code: sy.ErrorCode.TLS });

      const previous = process.env[grid.CA_FILE_ENV];
      process.env[grid.CA_FILE_ENV] = certs.ca;
      cleanups.push(() =>
        previous === undefined ? delete process.env[grid.CA_FILE_ENV] : (process.env[grid.CA_FILE_ENV] = previous),
      );
      const trusting = new grid.WebsocketGridClient(hook, node.url, { id: "bob" });
      cleanups.push(() => trusting.close());
      expect(await trusting.ping()).toBe("bob");
      expect((await new grid.GatewayClient(gateway.url).nodes()).length).toBe(0);
    });

    it("the port speaks TLS only: a TLS handshake verifies against the CA, plain HTTP gets no answer", async () => {
      const node = await tlsNode("bob");
      const socket = tls.connect({
        host: "127.0.0.1",
        port: node.port,
        ca: fs.readFileSync(certs.ca),
        servername: "localhost",
      });
      cleanups.push(() => socket.destroy());
      await new Promise<void>((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
      expect(socket.authorized).toBe(true);
      expect(socket.getProtocol()).toMatch(/^TLSv1\.[23]$/);
      expect(socket.getPeerCertificate().subjectaltname).toMatch(/IP Address:127\.0\.0\.1/);

      const plain = await new Promise<string>((resolve) => {
        const req = http.get(`http://127.0.0.1:${node.port}/health`, (res) => resolve(`status ${res.statusCode}`));
        req.on("error", (error) => resolve(`error ${(error as NodeJS.ErrnoException).code ?? error.message}`));
      });
      expect(plain).toMatch(/^error/);
      const { status, body } = await httpJson<grid.NodeHealth>(
        "GET",
        `https://127.0.0.1:${node.port}/health`,
        undefined,
        {
          ca: certs.ca,
        },
      );
      expect(status).toBe(200);
      expect(body.url).toBe(node.url);
    });

    it("startLocalGrid's child processes (the CLI's --tls-cert, --tls-key and --ca) serve and verify TLS", async () => {
      const local = await grid.startLocalGrid({
        ports: "random",
        nodes: ["bob", "charlie"],
        tls: { cert: certs.cert, key: certs.key },
        ca: certs.ca,
      });
      cleanups.push(() => local.stop());
      expect(local.gateway.url).toMatch(/^https:/);
      expect(local.nodes.map((n) => n.url)).toEqual([expect.stringMatching(/^wss:/), expect.stringMatching(/^wss:/)]);
      const gatewayClient = new grid.GatewayClient(local.gateway.url, { ca: certs.ca });
      // The nodes joined over https, verifying the gateway with --ca.
      await eventually(async () => (await gatewayClient.nodes()).length === 2, 30_000, "two nodes joined");
      const hook = sy.hook(tf);
      const clients = local.clients(hook);
      cleanups.push(() => Promise.all(clients.map((c) => c.close())));
      // The peer link between the processes is wss, verified with --ca.
      await grid.connectAllNodes(clients);
      const x = tf.tensor([1, 2, 3]).send(clients[0]!);
      expect(Array.from((await x.add(x).get()).dataSync())).toEqual([2, 4, 6]);
      expect((await clients[0]!.status()).peers).toEqual(["charlie"]);
    });

    it("a certificate and key that do not belong together fail at start with TSYFT_ERR_TLS", async () => {
      const other = makeTestCertificates();
      cleanups.push(() => other.remove());
      await expect(
        grid.startNode({ id: "bob", port: 0, tf, tls: { cert: certs.cert, key: other.key } }),
      ).rejects.toMatchObject({ code: sy.ErrorCode.TLS, message: expect.stringMatching(/do not make a TLS context/) });
      await expect(
        grid.startGateway({ port: 0, tls: { cert: "/nonexistent/grid.crt", key: certs.key } }),
      ).rejects.toMatchObject({ code: sy.ErrorCode.TLS, message: expect.stringMatching(/cannot read/) });
    });
  },
);

// Test certificates made at test time with Debian's openssl: a CA of its own
// (as a self-signed grid has) and a server certificate it signed for
// 127.0.0.1 and localhost. Nothing is committed; each call makes new files.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { tempDir } from "./helpers";

/** Where the files of one test CA are; `remove()` deletes them. */
export interface TestCertificates {
  dir: string;
  /** The CA's certificate (what clients pass as `ca`). */
  ca: string;
  /** A server certificate for 127.0.0.1 and localhost, and its key. */
  cert: string;
  key: string;
  remove(): void;
}

/** Why TLS tests are skipped here, or undefined when openssl is on the PATH. */
export const opensslMissing: string | undefined = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return undefined;
  } catch {
    return "openssl is not installed (apt-get install openssl): test certificates are made with it";
  }
})();

/** Makes a CA and a server certificate signed by it (EC P-256, valid one day). */
export function makeTestCertificates(): TestCertificates {
  const { dir, remove } = tempDir("tls");
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    file("ca.key"),
    "-out",
    file("ca.crt"),
    "-days",
    "1",
    "-subj",
    "/CN=tsyft test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  openssl("req", ...ec, "-keyout", file("server.key"), "-out", file("server.csr"), "-subj", "/CN=localhost");
  fs.writeFileSync(
    file("server.ext"),
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
  );
  openssl(
    "x509",
    "-req",
    "-in",
    file("server.csr"),
    "-CA",
    file("ca.crt"),
    "-CAkey",
    file("ca.key"),
    "-CAcreateserial",
    "-out",
    file("server.crt"),
    "-days",
    "1",
    "-extfile",
    file("server.ext"),
  );
  return { dir, ca: file("ca.crt"), cert: file("server.crt"), key: file("server.key"), remove };
}

/**
 * A cluster's TLS material on disk and in its containers: the generated
 * certificates are written to the cluster's own folder (keys 0600), which any
 * process can find from the cluster id alone, so `m3agg down` and the orphan
 * sweep can remove it like the containers. The containers get copies at fixed
 * paths that the rendered configs name.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type * as tls from "node:tls";
import { generateCertificates } from "./certificates";
import { TLS_FILES, type TlsMode, type TlsSettings } from "../model/tls";
import { type ProcessIdentity, selfIdentity } from "../util/process-alive";

/** `cluster.tls`: what a client needs to talk TLS to the cluster's raw TCP endpoints. */
export interface ClusterTls {
  mode: TlsMode;
  /** The servers require a client certificate from TLS clients. */
  mutualTls: boolean;
  /** PEM of the cluster's CA (it signed the server and client certificates). */
  caFile: string;
  /** PEM of the client certificate (clientAuth), for mTLS. */
  certFile: string;
  /** PEM of the client key (0600). */
  keyFile: string;
  /** The server certificate's SAN, and the `serverName` m3's Go client must verify. */
  serverName: string;
  /** Options for Node's `tls.connect`: the CA, the client certificate and key; the server is verified. */
  clientOptions(): tls.ConnectionOptions;
}


/** The folder holding every cluster's TLS folder. */
export const TLS_ROOT = path.join(os.tmpdir(), "m3agg-tls");

/** The cluster's TLS folder: derived from the id, so every process finds it. */
export function tlsDirOf(clusterId: string): string {
  return path.join(TLS_ROOT, clusterId);
}

/** The owner file of a TLS folder: the process that made it (the orphan sweep asks whether it still runs). */
const OWNER_FILE = "owner.json";

/** The process that made the TLS folder `dir`, or undefined (no folder, or made by an older version). */
export function tlsOwnerIn(dir: string): ProcessIdentity | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, OWNER_FILE), "utf8")) as ProcessIdentity;
  } catch {
    return undefined;
  }
}

/** Removes the cluster's TLS folder (no error when there is none). */
export function removeTlsMaterial(clusterId: string): void {
  fs.rmSync(tlsDirOf(clusterId), { recursive: true, force: true });
}

/** The handle over the files of a cluster's TLS folder `dir` (started here, or attached from another process). */
export function clusterTlsHandle(dir: string, settings: TlsSettings, serverName: string): ClusterTls {
  const files = { caFile: path.join(dir, "ca.pem"), certFile: path.join(dir, "client.pem"), keyFile: path.join(dir, "client-key.pem") };
  return {
    ...settings,
    ...files,
    serverName,
    clientOptions: () => ({
      ca: fs.readFileSync(files.caFile),
      cert: fs.readFileSync(files.certFile),
      key: fs.readFileSync(files.keyFile),
      // The server certificate's SAN is the cluster's host address: Node checks it against the dialled host.
      rejectUnauthorized: true,
    }),
  };
}

/**
 * Generates the cluster's certificates (server SAN: `serverName`) and writes them to its folder
 * (0700; keys 0600, certificates 0644), under the names the plan's container specs read them by.
 */
export async function createTlsMaterial(clusterId: string, serverName: string): Promise<void> {
  const certificates = await generateCertificates(clusterId, serverName);
  const content: Record<(typeof TLS_FILES)[number]["name"], string> = {
    "ca.pem": certificates.caCert,
    "server.pem": certificates.serverCert,
    "server-key.pem": certificates.serverKey,
    "client.pem": certificates.clientCert,
    "client-key.pem": certificates.clientKey,
  };
  const dir = tlsDirOf(clusterId);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const { name, mode } of TLS_FILES) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content[name], { mode });
    fs.chmodSync(file, mode); // the umask may have narrowed or the file may have existed
  }
  // The process that made it: the orphan sweep removes the folder once that process is gone.
  fs.writeFileSync(path.join(dir, OWNER_FILE), JSON.stringify(selfIdentity()), { mode: 0o644 });
  fs.chmodSync(path.join(dir, OWNER_FILE), 0o644);
}


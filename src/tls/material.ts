/**
 * A cluster's TLS material on disk and in its containers: the generated
 * certificates are written to the cluster's folder (lifecycle/cluster-dir.ts; keys 0600). The
 * containers get them at fixed paths that the rendered configs name.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type * as tls from "node:tls";
import { generateCertificates } from "./certificates";
import { TLS_FILES, type TlsMode, type TlsSettings } from "../model/tls";

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


/** The handle over the TLS files in the cluster folder `dir` (started here, or attached from another process). */
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
 * Generates the cluster's certificates (server SAN: `serverName`) and writes them to the folder
 * `dir` (made 0700 when missing; keys 0600, certificates 0644), under the names the plan's container specs read them by.
 */
export async function createTlsMaterial(dir: string, clusterId: string, serverName: string): Promise<void> {
  const certificates = await generateCertificates(clusterId, serverName);
  const content: Record<(typeof TLS_FILES)[number]["name"], string> = {
    "ca.pem": certificates.caCert,
    "server.pem": certificates.serverCert,
    "server-key.pem": certificates.serverKey,
    "client.pem": certificates.clientCert,
    "client-key.pem": certificates.clientKey,
  };
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const { name, mode } of TLS_FILES) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content[name], { mode });
    fs.chmodSync(file, mode); // the umask may have narrowed or the file may have existed
  }
}

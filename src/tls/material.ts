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
import { CONTAINER_TLS_FILES, type TlsMode, type TlsSettings } from "../model/tls";

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


/** The cluster's TLS folder: derived from the id, so every process finds it. */
export function tlsDirOf(clusterId: string): string {
  return path.join(os.tmpdir(), "m3agg-tls", clusterId);
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

/** What a start does with the generated certificates: copies them into every aggregator container. */
export interface TlsMaterial {
  /** Files to copy into every aggregator container: content and target path. */
  containerFiles: Array<{ content: string; target: string; mode: number }>;
}

/** Generates the cluster's certificates and writes them to its folder (0700; keys 0600, certificates 0644). */
export async function createTlsMaterial(clusterId: string, host: string): Promise<TlsMaterial> {
  const certificates = await generateCertificates(clusterId, host);
  const dir = tlsDirOf(clusterId);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const write = (name: string, content: string, mode: number) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content, { mode });
    fs.chmodSync(file, mode); // the umask may have narrowed or the file may have existed
  };
  write("ca.pem", certificates.caCert, 0o644);
  write("client.pem", certificates.clientCert, 0o644);
  write("client-key.pem", certificates.clientKey, 0o600);
  write("server.pem", certificates.serverCert, 0o644);
  write("server-key.pem", certificates.serverKey, 0o600);
  return {
    containerFiles: [
      { content: certificates.caCert, target: CONTAINER_TLS_FILES.ca, mode: 0o644 },
      { content: certificates.serverCert, target: CONTAINER_TLS_FILES.serverCert, mode: 0o644 },
      { content: certificates.serverKey, target: CONTAINER_TLS_FILES.serverKey, mode: 0o600 },
      { content: certificates.clientCert, target: CONTAINER_TLS_FILES.clientCert, mode: 0o644 },
      { content: certificates.clientKey, target: CONTAINER_TLS_FILES.clientKey, mode: 0o600 },
    ],
  };
}

/**
 * The files an aggregator container needs, read back from the cluster's TLS folder (for a node
 * started after the cluster, e.g. by addNodes: same CA, same server certificate).
 */
export function containerFilesFromDir(dir: string): TlsMaterial["containerFiles"] {
  const read = (name: string) => fs.readFileSync(path.join(dir, name), "utf8");
  return [
    { content: read("ca.pem"), target: CONTAINER_TLS_FILES.ca, mode: 0o644 },
    { content: read("server.pem"), target: CONTAINER_TLS_FILES.serverCert, mode: 0o644 },
    { content: read("server-key.pem"), target: CONTAINER_TLS_FILES.serverKey, mode: 0o600 },
    { content: read("client.pem"), target: CONTAINER_TLS_FILES.clientCert, mode: 0o644 },
    { content: read("client-key.pem"), target: CONTAINER_TLS_FILES.clientKey, mode: 0o600 },
  ];
}

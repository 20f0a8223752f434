/** The `tls` option: TLS on the aggregators' raw TCP ingest servers, and where the containers find the files. */

/** m3's raw TCP TLS modes: permissive accepts TLS and plaintext (by the first byte), enforced only TLS. */
export type TlsMode = "permissive" | "enforced";

/** What users pass: off, a mode (mTLS on), or a mode with mTLS chosen. */
export type TlsOption = false | TlsMode | { mode: TlsMode; mutualTls?: boolean };

/** The resolved setting of a cluster whose TLS is on. */
export interface TlsSettings {
  mode: TlsMode;
  /** Clients that start TLS must present a certificate signed by the cluster's CA. */
  mutualTls: boolean;
}

/** Where the containers find the TLS files (the rendered configs name these). */
export const CONTAINER_TLS_DIR = "/etc/m3agg/tls";
export const CONTAINER_TLS_FILES = {
  ca: `${CONTAINER_TLS_DIR}/ca.pem`,
  serverCert: `${CONTAINER_TLS_DIR}/server.pem`,
  serverKey: `${CONTAINER_TLS_DIR}/server-key.pem`,
  clientCert: `${CONTAINER_TLS_DIR}/client.pem`,
  clientKey: `${CONTAINER_TLS_DIR}/client-key.pem`,
} as const;

/** The TLS files of a cluster folder (same names on the host and in the containers), and their modes. */
export const TLS_FILES = [
  { name: "ca.pem", mode: 0o644 },
  { name: "server.pem", mode: 0o644 },
  { name: "server-key.pem", mode: 0o600 },
  { name: "client.pem", mode: 0o644 },
  { name: "client-key.pem", mode: 0o600 },
] as const satisfies ReadonlyArray<{ name: string; mode: number }>;

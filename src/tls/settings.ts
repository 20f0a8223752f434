/** The `tls` option: TLS on the aggregators' raw TCP ingest servers. */

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

/**
 * Certificates of one cluster's raw TCP TLS: a CA, a server certificate
 * whose SAN is the cluster's host address (so clients verify it, unlike m3's
 * dev environment which skips verification), and a client certificate for
 * mTLS. ECDSA P-256: generating all three takes milliseconds, RSA would take
 * a large part of a second. Generated with @peculiar/x509 on Node's WebCrypto.
 */
import { webcrypto } from "node:crypto";
import { isIP } from "node:net";

type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** PEM texts of one cluster's certificates and keys. */
export interface CertificateSet {
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
/** Valid from an hour ago (clock skew between host and containers is nil, but a test VM's may not be)… */
const BACKDATE_MS = 60 * 60 * 1000;
/** …for a year: long enough for clusters kept between runs (reuse mode). */
const VALIDITY_MS = 365 * 24 * 60 * 60 * 1000;

type X509 = typeof import("@peculiar/x509");
let loaded: X509 | undefined;

/** Loads the library on first use: it needs the reflect-metadata polyfill, which only TLS users should get. */
function x509(): X509 {
  if (loaded === undefined) {
    require("reflect-metadata");
    loaded = require("@peculiar/x509") as X509;
    loaded.cryptoProvider.set(webcrypto as never);
  }
  return loaded;
}

async function keyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"])) as CryptoKeyPair;
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey("pkcs8", key);
  const base64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN PRIVATE KEY-----\n${base64}\n-----END PRIVATE KEY-----\n`;
}

function serial(): string {
  // Positive 64-bit serial: the leading byte is kept below 0x80.
  const bytes = webcrypto.getRandomValues(new Uint8Array(8));
  bytes[0] = (bytes[0] as number) & 0x7f | 0x01;
  return Buffer.from(bytes).toString("hex");
}

/**
 * A CA and two leaf certificates signed by it: the server's (SAN = `host`, an IPv4 address or a DNS name,
 * plus DNS `localhost`; extended key usage serverAuth) and the client's (clientAuth).
 * `clusterId` goes into the subjects so a certificate says which cluster it belongs to.
 */
export async function generateCertificates(clusterId: string, host: string): Promise<CertificateSet> {
  const lib = x509();
  const notBefore = new Date(Date.now() - BACKDATE_MS);
  const notAfter = new Date(Date.now() + VALIDITY_MS);
  const [caKeys, serverKeys, clientKeys] = await Promise.all([keyPair(), keyPair(), keyPair()]);
  const caName = `CN=m3agg test CA ${clusterId}`;
  const ca = await lib.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(), name: caName, notBefore, notAfter, keys: caKeys as never, signingAlgorithm: ALGORITHM,
    extensions: [
      new lib.BasicConstraintsExtension(true, 0, true),
      new lib.KeyUsagesExtension(lib.KeyUsageFlags.keyCertSign | lib.KeyUsageFlags.cRLSign, true),
      await lib.SubjectKeyIdentifierExtension.create(caKeys.publicKey as never),
    ],
  });
  const leaf = async (name: string, keys: CryptoKeyPair, usage: string, san?: InstanceType<X509["SubjectAlternativeNameExtension"]>) =>
    lib.X509CertificateGenerator.create({
      serialNumber: serial(), subject: name, issuer: ca.subject, notBefore, notAfter,
      signingKey: caKeys.privateKey as never, publicKey: keys.publicKey as never, signingAlgorithm: ALGORITHM,
      extensions: [
        new lib.BasicConstraintsExtension(false, undefined, true),
        new lib.KeyUsagesExtension(lib.KeyUsageFlags.digitalSignature, true),
        new lib.ExtendedKeyUsageExtension([usage], false),
        await lib.AuthorityKeyIdentifierExtension.create(ca, false),
        ...(san === undefined ? [] : [san]),
      ],
    });
  const server = await leaf(`CN=m3aggregator ${clusterId}`, serverKeys, lib.ExtendedKeyUsage.serverAuth,
    new lib.SubjectAlternativeNameExtension([
      // An IPv4 address (loopback model) or a DNS name (named model: the aggregators' service name).
      isIP(host) === 0 ? { type: "dns", value: host } : { type: "ip", value: host },
      { type: "dns", value: "localhost" },
    ], false));
  const client = await leaf(`CN=m3agg client ${clusterId}`, clientKeys, lib.ExtendedKeyUsage.clientAuth);
  return {
    caCert: ca.toString("pem"),
    serverCert: server.toString("pem"),
    serverKey: await privateKeyPem(serverKeys.privateKey),
    clientCert: client.toString("pem"),
    clientKey: await privateKeyPem(clientKeys.privateKey),
  };
}

/**
 * The emulator's HTTPS identity, like a real endpoint's: a private CA (its certificate is what
 * clients trust through AWS_CA_BUNDLE) and a server certificate it signs for the names the
 * emulator is reached by (localhost, 127.0.0.1, ::1 and the listening host). Made with
 * @peculiar/x509, imported only when --tls is used. ECDSA P-256 keeps generation and handshakes
 * fast.
 */
import { writeFileAtomically } from "../atomic_write.ts";
import { parseCertificate, validityAt } from "../identity/certificate.ts";
import { parsePem } from "../identity/pem.ts";

export interface TlsMaterial {
  /** The CA certificate, PEM: the file for AWS_CA_BUNDLE. */
  readonly caPem: string;
  /** Server certificate, then the CA: the chain the server presents. */
  readonly chainPem: string;
  /** The server's private key, PKCS#8 PEM. */
  readonly keyPem: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

function pem(label: string, der: ArrayBuffer): string {
  const base64 = new Uint8Array(der).toBase64();
  return `-----BEGIN ${label}-----\n${base64.match(/.{1,64}/g)!.join("\n")}\n-----END ${label}-----\n`;
}

/** The DNS names and IP addresses a server listening on `host` is reached by. */
export function serverNames(host: string): { dns: string[]; ip: string[] } {
  const dns = new Set(["localhost"]);
  const ip = new Set(["127.0.0.1", "::1"]);
  if (/^[\d.]+$/.test(host) || host.includes(":")) {
    if (host !== "0.0.0.0" && host !== "::") ip.add(host);
  } else {
    dns.add(host);
  }
  return { dns: [...dns], ip: [...ip] };
}

export async function makeTlsMaterial(host: string, now: Date, days = 365): Promise<TlsMaterial> {
  await import("reflect-metadata");
  const x509 = await import("@peculiar/x509");
  x509.cryptoProvider.set(crypto);
  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + days * DAY_MS);
  const caKeys = await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const serial = () => crypto.getRandomValues(new Uint8Array(16)).toHex().replace(/^[89a-f]/, "1");
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: "CN=certrole emulator CA, O=certrole",
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const serverKeys = await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const names = serverNames(host);
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: "CN=localhost",
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...names.dns.map((value) => ({ type: "dns" as const, value })),
        ...names.ip.map((value) => ({ type: "ip" as const, value })),
      ]),
      await x509.SubjectKeyIdentifierExtension.create(serverKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const caPem = ca.toString("pem") + "\n";
  return {
    caPem,
    chainPem: server.toString("pem") + "\n" + caPem,
    keyPem: pem("PRIVATE KEY", await crypto.subtle.exportKey("pkcs8", serverKeys.privateKey)),
  };
}

/**
 * Whether saved material can be served again: the server certificate is valid for at least
 * another day and names `host`.
 */
export function stillUsable(material: TlsMaterial, host: string, now: Date): boolean {
  try {
    const block = parsePem(material.chainPem).find((candidate) => candidate.label === "CERTIFICATE");
    if (!block) return false;
    const certificate = parseCertificate(block.bytes);
    if (
      validityAt(certificate, now) !== "valid" || validityAt(certificate, new Date(now.getTime() + DAY_MS)) !== "valid"
    ) {
      return false;
    }
    const wanted = serverNames(host);
    const san = certificate.subjectAltNames;
    const ips = san.ip.map(canonicalIp);
    return wanted.dns.every((name) => san.dns.includes(name)) && wanted.ip.every((ip) => ips.includes(canonicalIp(ip)));
  } catch {
    return false;
  }
}

/** One spelling per address: 0:0:0:0:0:0:0:1 and ::1 are the same. */
function canonicalIp(ip: string): string {
  return ip.includes(":") ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

const FILES = { caPem: "tls-ca-cert.pem", chainPem: "tls-server-chain.pem", keyPem: "tls-server-key.pem" } as const;

/** TLS material saved in the state directory by an earlier run, if complete. */
export async function loadTlsMaterial(dir: string): Promise<TlsMaterial | undefined> {
  try {
    const [caPem, chainPem, keyPem] = await Promise.all(
      Object.values(FILES).map((name) => Deno.readTextFile(`${dir}/${name}`)),
    );
    return { caPem, chainPem, keyPem };
  } catch {
    return undefined;
  }
}

export async function saveTlsMaterial(dir: string, material: TlsMaterial): Promise<void> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  for (const [field, name] of Object.entries(FILES)) {
    await writeFileAtomically(`${dir}/${name}`, material[field as keyof TlsMaterial], { mode: 0o600 });
  }
}

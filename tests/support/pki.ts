/**
 * Test PKI made with openssl, the walkthrough's tool: a CA like the walkthrough's (encrypted key,
 * v3 CA extensions), leaf certificates signed by it (the walkthrough's v3.ext), and `openssl ca`
 * for certificates with chosen validity dates (expired, not yet valid).
 */
import { openssl } from "./run.ts";

/** rsa:1024 only for certificates Roles Anywhere must refuse. */
export type KeyType = "rsa:1024" | "rsa:2048" | "rsa:3072" | "rsa:4096" | "ec:P-256" | "ec:P-384";

export interface Ca {
  readonly dir: string;
  readonly cert: string;
  readonly key: string;
  readonly passphrase?: string;
}

export interface Leaf {
  readonly cert: string;
  readonly key: string;
  readonly passphrase?: string;
}

/** `openssl req -newkey` arguments for a key type. */
export function newkeyArgs(type: KeyType): string[] {
  const [algorithm, size] = type.split(":");
  return algorithm === "rsa" ? ["-newkey", `rsa:${size}`] : ["-newkey", "ec", "-pkeyopt", `ec_paramgen_curve:${size}`];
}

export const LEAF_EXTENSIONS = [
  "authorityKeyIdentifier=keyid,issuer",
  "basicConstraints=CA:FALSE",
  "keyUsage=digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment",
].join("\n");

/** The walkthrough's CA: `openssl genrsa -aes256` key, self-signed v3 CA certificate. */
export async function makeCa(
  dir: string,
  options: {
    cn?: string;
    passphrase?: string;
    keyType?: KeyType;
    days?: number;
    /** `-addext` values; default CA:TRUE and keyCertSign + cRLSign, both critical. */
    addext?: readonly string[];
  } = {},
): Promise<Ca> {
  await Deno.mkdir(dir, { recursive: true });
  const passphrase = options.passphrase ?? "ca-passphrase";
  const key = `${dir}/ca-key.pem`;
  const cert = `${dir}/ca-cert.pem`;
  const keyType = options.keyType ?? "rsa:2048";
  if (keyType === "rsa:2048") {
    await openssl(["genrsa", "-aes256", "-passout", `pass:${passphrase}`, "-out", key, "2048"]);
  } else {
    const [algorithm, size] = keyType.split(":");
    const genArgs = algorithm === "rsa"
      ? ["-algorithm", "RSA", "-pkeyopt", `rsa_keygen_bits:${size}`]
      : ["-algorithm", "EC", "-pkeyopt", `ec_paramgen_curve:${size}`];
    await openssl(["genpkey", ...genArgs, "-aes256", "-pass", `pass:${passphrase}`, "-out", key]);
  }
  await openssl([
    "req",
    "-new",
    "-x509",
    "-days",
    String(options.days ?? 1095),
    "-key",
    key,
    "-passin",
    `pass:${passphrase}`,
    "-out",
    cert,
    "-sha256",
    "-subj",
    `/C=US/O=Example/CN=${options.cn ?? "myPrivateCA"}`,
    ...(options.addext ?? ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign"])
      .flatMap((extension) => ["-addext", extension]),
  ]);
  return { dir, cert, key, passphrase };
}

let serial = 1;

/** The walkthrough's leaf: `openssl req -newkey ... -keyout key.pem`, signed with v3.ext. */
export async function issueLeaf(
  ca: Ca,
  name: string,
  options: {
    cn?: string;
    keyType?: KeyType;
    passphrase?: string | null;
    days?: number;
    /** v3.ext contents; null signs without -extfile, which makes an X.509 v1 certificate. */
    extensions?: string | null;
    san?: string;
    /** openssl's digest flag; default sha256. */
    digest?: string;
  } = {},
): Promise<Leaf> {
  const base = `${ca.dir}/${name}`;
  const key = `${base}-key.pem`;
  const csr = `${base}-csr.pem`;
  const cert = `${base}-cert.pem`;
  const extfile = `${base}-v3.ext`;
  const passphrase = options.passphrase === null ? undefined : options.passphrase ?? "leaf-passphrase";
  await openssl([
    "req",
    ...newkeyArgs(options.keyType ?? "rsa:2048"),
    "-keyout",
    key,
    "-out",
    csr,
    "-subj",
    `/CN=${options.cn ?? "myContainer"}`,
    ...(passphrase ? ["-passout", `pass:${passphrase}`] : ["-noenc"]),
  ]);
  if (options.extensions !== null) {
    await Deno.writeTextFile(
      extfile,
      (options.extensions ?? LEAF_EXTENSIONS) + (options.san ? `\nsubjectAltName=${options.san}` : "") + "\n",
    );
  }
  await openssl([
    "x509",
    "-req",
    "-in",
    csr,
    "-days",
    String(options.days ?? 1),
    "-CA",
    ca.cert,
    "-CAkey",
    ca.key,
    "-passin",
    `pass:${ca.passphrase}`,
    "-set_serial",
    String(serial++ * 1000 + 7),
    "-out",
    cert,
    ...(options.extensions === null ? [] : ["-extfile", extfile]),
    `-${options.digest ?? "sha256"}`,
  ]);
  return { cert, key, passphrase };
}

/** `openssl ca` with explicit dates (YYYYMMDDHHMMSSZ), for expired and not-yet-valid certificates. */
export async function issueDated(
  ca: Ca,
  name: string,
  startDate: string,
  endDate: string,
  cn = "myContainer",
): Promise<Leaf> {
  const base = `${ca.dir}/${name}`;
  const db = `${base}-db`;
  await Deno.mkdir(db, { recursive: true });
  await Deno.writeTextFile(`${db}/index.txt`, "");
  await Deno.writeTextFile(`${db}/serial`, "1000\n");
  await Deno.writeTextFile(
    `${base}-ca.cnf`,
    [
      "[ca]",
      "default_ca = test",
      "[test]",
      `dir = ${db}`,
      "database = $dir/index.txt",
      "serial = $dir/serial",
      "new_certs_dir = $dir",
      "default_md = sha256",
      "policy = any",
      "unique_subject = no",
      "copy_extensions = none",
      "[any]",
      "commonName = supplied",
      "[leaf]",
      ...LEAF_EXTENSIONS.split("\n"),
    ].join("\n") + "\n",
  );
  await openssl([
    "req",
    "-newkey",
    "rsa:2048",
    "-noenc",
    "-keyout",
    `${base}-key.pem`,
    "-out",
    `${base}-csr.pem`,
    "-subj",
    `/CN=${cn}`,
  ]);
  await openssl([
    "ca",
    "-batch",
    "-config",
    `${base}-ca.cnf`,
    "-extensions",
    "leaf",
    "-cert",
    ca.cert,
    "-keyfile",
    ca.key,
    "-passin",
    `pass:${ca.passphrase}`,
    "-in",
    `${base}-csr.pem`,
    "-out",
    `${base}-cert.pem`,
    "-notext",
    "-startdate",
    startDate,
    "-enddate",
    endDate,
  ]);
  return { cert: `${base}-cert.pem`, key: `${base}-key.pem` };
}

export const INTERMEDIATE_EXTENSIONS =
  "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n";

/** An intermediate CA signed by `ca`, for chain tests; `extensions` replaces the CA extensions. */
export async function makeIntermediate(ca: Ca, name: string, options: { extensions?: string } = {}): Promise<Ca> {
  const dir = `${ca.dir}/${name}`;
  await Deno.mkdir(dir, { recursive: true });
  const key = `${dir}/ca-key.pem`;
  const cert = `${dir}/ca-cert.pem`;
  const passphrase = "intermediate-passphrase";
  await openssl([
    "req",
    "-newkey",
    "rsa:2048",
    "-keyout",
    key,
    "-passout",
    `pass:${passphrase}`,
    "-out",
    `${dir}/ca.csr`,
    "-subj",
    `/CN=${name}`,
  ]);
  await Deno.writeTextFile(`${dir}/ext`, options.extensions ?? INTERMEDIATE_EXTENSIONS);
  await openssl([
    "x509",
    "-req",
    "-in",
    `${dir}/ca.csr`,
    "-days",
    "30",
    "-CA",
    ca.cert,
    "-CAkey",
    ca.key,
    "-passin",
    `pass:${ca.passphrase}`,
    "-set_serial",
    String(serial++ * 1000 + 9),
    "-out",
    cert,
    "-extfile",
    `${dir}/ext`,
    "-sha256",
  ]);
  return { dir, cert, key, passphrase };
}

/** A TLS server certificate for localhost/127.0.0.1 under `tls`, and the CA that signed it (ca: its PEM file). */
export async function tlsServer(
  tls: string,
  caName = "test TLS CA",
): Promise<{ ca: string; cert: string; key: string }> {
  await Deno.mkdir(tls, { recursive: true });
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-noenc",
    "-keyout",
    `${tls}/ca.key`,
    "-out",
    `${tls}/ca.pem`,
    "-days",
    "1",
    "-subj",
    `/CN=${caName}`,
  ]);
  await openssl([
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-noenc",
    "-keyout",
    `${tls}/server.key`,
    "-out",
    `${tls}/server.csr`,
    "-subj",
    "/CN=localhost",
  ]);
  await Deno.writeTextFile(
    `${tls}/ext`,
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    `${tls}/server.csr`,
    "-CA",
    `${tls}/ca.pem`,
    "-CAkey",
    `${tls}/ca.key`,
    "-set_serial",
    "5",
    "-days",
    "1",
    "-out",
    `${tls}/server.pem`,
    "-extfile",
    `${tls}/ext`,
  ]);
  return {
    ca: `${tls}/ca.pem`,
    cert: await Deno.readTextFile(`${tls}/server.pem`),
    key: await Deno.readTextFile(`${tls}/server.key`),
  };
}

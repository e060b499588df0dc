/**
 * What the fuzz target runs an input through: the functions every command loads identities
 * with. A key goes through loadIdentity with its certificate and, when it loads, signs; a
 * certificate through loadIdentity with its key and then chain verification against the CA
 * (as the emulator's CreateSession does); a bundle as --intermediates; a combined PEM as
 * --certificate alone. The only acceptable failure is a one-line CertroleError.
 */
import { CertroleError } from "../../cli/errors.ts";
import { verifyChain } from "../../cli/identity/chain.ts";
import { certificateFromBytes, type IdentityPaths, loadIdentity } from "../../cli/identity/identity.ts";
import type { Passphrase } from "../../cli/identity/passphrase.ts";
import { signBytes } from "../../cli/signing/sigv4_x509.ts";
import type { Certificate } from "../../cli/identity/certificate.ts";
import type { LoadedSeed } from "./seeds.ts";

export interface TargetContext {
  readonly dir: string;
  readonly now: Date;
  readonly ca: Certificate;
  /** The seed directory, where partners are. */
  readonly seedDir: string;
}

export type Outcome =
  | { readonly kind: "ok" }
  | { readonly kind: "refused"; readonly code: string }
  | { readonly kind: "internal"; readonly error: string };

/** Runs `input` (a mutation of `seed`, already written to `inputPath`) through its target. */
export async function runTarget(
  seed: LoadedSeed,
  inputPath: string,
  passphrase: Passphrase | undefined,
  context: TargetContext,
): Promise<Outcome> {
  try {
    const partner = seed.partner && `${context.seedDir}/${seed.partner}`;
    const paths: IdentityPaths = seed.kind === "key"
      ? { certificate: partner!, privateKey: inputPath }
      : seed.kind === "certificate"
      ? { certificate: inputPath, privateKey: partner }
      : seed.kind === "combined"
      ? { certificate: inputPath }
      : {
        certificate: `${context.seedDir}/rsa-cert.pem`,
        privateKey: `${context.seedDir}/rsa-pkcs8.pem`,
        intermediates: inputPath,
      };
    if (seed.kind === "certificate") {
      // Chain verification first: it runs on certificates that loadIdentity would refuse (expired, wrong key).
      const certificate = certificateFromBytes(await Deno.readFile(inputPath), inputPath);
      await verifyChain(certificate, [], [context.ca], context.now);
    }
    const identity = await loadIdentity(paths, passphrase, context.now);
    await signBytes(identity.key.algorithm, identity.key.signingKey, "AWS4-X509-ECDSA-SHA256\n20250101T000000Z\n");
    if (seed.kind === "bundle") {
      await verifyChain(identity.certificate, identity.intermediates, [context.ca], context.now);
    }
    return { kind: "ok" };
  } catch (error) {
    if (error instanceof CertroleError && !error.message.includes("\n")) return { kind: "refused", code: error.code };
    return { kind: "internal", error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
}

export async function targetContext(seedDir: string, dir: string, now: Date): Promise<TargetContext> {
  const caPath = `${seedDir}/ca-cert.pem`;
  return { dir, now, seedDir, ca: certificateFromBytes(await Deno.readFile(caPath), caPath) };
}

/**
 * The fuzz seed corpus (tests/fixtures/fuzz-seeds/, made by make_seeds.ts): what each file is,
 * which file it pairs with, and the passphrase and clock under which every seed loads.
 */

export interface Seed {
  readonly file: string;
  /** "combined": one PEM with certificate and key; "bundle": intermediates. */
  readonly kind: "key" | "certificate" | "combined" | "bundle";
  /** e.g. "PKCS#8 PBES2 scrypt AES-256-CBC PEM", for reports. */
  readonly encoding: string;
  /** A key's certificate, or a certificate's (plain) key. */
  readonly partner?: string;
  readonly encrypted?: boolean;
}

export interface SeedManifest {
  readonly passphrase: string;
  /** ISO time inside every seed certificate's validity. */
  readonly now: string;
  readonly seeds: readonly Seed[];
}

export const SEED_DIR = new URL("../../tests/fixtures/fuzz-seeds/", import.meta.url).pathname;

export interface LoadedSeed extends Seed {
  readonly path: string;
  readonly bytes: Uint8Array<ArrayBuffer>;
}

export async function loadSeeds(
  dir = SEED_DIR,
): Promise<Omit<SeedManifest, "seeds"> & { seeds: readonly LoadedSeed[] }> {
  const manifest: SeedManifest = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
  const seeds = await Promise.all(
    manifest.seeds.map(async (seed) => ({
      ...seed,
      path: `${dir}/${seed.file}`,
      bytes: await Deno.readFile(`${dir}/${seed.file}`),
    })),
  );
  return { ...manifest, seeds };
}

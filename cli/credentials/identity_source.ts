/**
 * The identity of a resident process, kept in step with its files. Short-lived certificates are
 * replaced on disk (cert-manager, Vault agent, a Kubernetes secret volume, whose `..data` symlink
 * is swapped atomically), so the certificate, intermediates and key are re-read at every refresh
 * and polled every second: their bytes are compared, which sees every way of replacing a file
 * (rename, symlink swap, in-place write, bind mounts) without depending on file events. A changed
 * set is loaded and checked as at start; when it fails the checks the last good identity stays in
 * use and the failure is reported once per distinct content.
 */
import { type Environment, loadSessionIdentity } from "./obtain.ts";
import { fingerprintSha256 } from "../identity/certificate.ts";
import type { Identity } from "../identity/identity.ts";
import { messageOf } from "../errors.ts";
import type { SessionSettings } from "../session_settings.ts";
import { sha256Hex } from "../signing/sigv4_x509.ts";
import { readInputFile } from "../identity/input_file.ts";

/** What logs and the emulator's session log can name a certificate by. */
export interface IdentityLabel {
  readonly serial: string;
  readonly fingerprint: string;
  readonly notAfter: Date;
}

export interface IdentityChange {
  readonly previous: IdentityLabel;
  readonly current: IdentityLabel;
}

export class IdentitySource {
  #good?: { identity: Identity; label: IdentityLabel; digest: string };
  #rejectedDigest?: string;
  #polling: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly settings: SessionSettings,
    private readonly environment: Environment,
    private readonly log: (line: string) => void,
  ) {}

  /** The first load: every local check, failures thrown (start-up fails fast). */
  async load(): Promise<IdentityLabel> {
    const digest = await this.#digest();
    const identity = await loadSessionIdentity(this.settings, this.environment);
    this.#good = { identity, label: await labelOf(identity), digest: digest ?? "" };
    return this.#good.label;
  }

  get label(): IdentityLabel | undefined {
    return this.#good?.label;
  }

  /** The identity to sign the next CreateSession with: the files as they are now, if they pass. */
  async current(): Promise<Identity> {
    await this.poll();
    if (!this.#good) throw new Error("IdentitySource.load() was not called");
    return this.#good.identity;
  }

  /**
   * Re-reads the files; when their content changed and passes the checks, it becomes the
   * identity and the change is returned. Never throws: a bad new set is logged and ignored.
   */
  poll(): Promise<IdentityChange | undefined> {
    // One poll at a time: the watcher's timer and a refresh may both ask.
    const next = this.#polling.then(() => this.#pollOnce());
    this.#polling = next.catch(() => {});
    return next;
  }

  async #pollOnce(): Promise<IdentityChange | undefined> {
    const good = this.#good;
    if (!good) return undefined;
    const digest = await this.#digest();
    if (digest === undefined || digest === good.digest || digest === this.#rejectedDigest) return undefined;
    try {
      const identity = await loadSessionIdentity(this.settings, this.environment);
      const label = await labelOf(identity);
      this.#good = { identity, label, digest };
      this.#rejectedDigest = undefined;
      if (label.fingerprint === good.label.fingerprint) return undefined; // same certificate, e.g. a new key file mode
      this.log(
        `rotation: certificate serial ${good.label.serial} replaced by serial ${label.serial} ` +
          `(SHA-256 ${label.fingerprint}, valid until ${label.notAfter.toISOString()})`,
      );
      return { previous: good.label, current: label };
    } catch (error) {
      this.#rejectedDigest = digest;
      this.log(
        `rotation: the new certificate/key files are refused (${messageOf(error)}); ` +
          `still using certificate serial ${good.label.serial}`,
      );
      return undefined;
    }
  }

  /** One digest over the three files' bytes; undefined while one cannot be read (mid-replacement). */
  async #digest(): Promise<string | undefined> {
    const paths = [this.settings.certificatePath, this.settings.privateKeyPath, this.settings.intermediatesPath];
    const parts: string[] = [];
    for (const path of paths) {
      if (path === undefined) {
        parts.push("-");
        continue;
      }
      try {
        // readInputFile: a file swapped for a FIFO or /dev/zero must not stall or flood the watcher.
        parts.push(await sha256Hex(await readInputFile(path, { what: "watched file", setting: "its flag" })));
      } catch {
        return undefined;
      }
    }
    return await sha256Hex(parts.join("|"));
  }
}

async function labelOf(identity: Identity): Promise<IdentityLabel> {
  return {
    serial: identity.certificate.serialDecimal,
    fingerprint: await fingerprintSha256(identity.certificate),
    notAfter: identity.certificate.notAfter,
  };
}

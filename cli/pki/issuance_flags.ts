/**
 * Flags `pki init-ca` and `pki issue` share (subject fields, key type, validity, key passphrase,
 * --force, --json) and their checked values. No @peculiar/x509 here: help stays fast.
 */
import { fail } from "../errors.ts";
import type { FlagSpecs, ParsedFlags } from "../flags.ts";
import { parseKeyType } from "./key_type.ts";
import type { KeyType } from "./key_type.ts";
// Type-only: erased at run time, so this module still does not load @peculiar/x509.
import type { SubjectFields } from "./certificate_authority.ts";

export function subjectFlags(cnDescription: string): FlagSpecs {
  return {
    "cn": { type: "string", value: "NAME", description: cnDescription },
    "org": { type: "string", value: "NAME", description: "subject organization (O)" },
    "org-unit": { type: "string", value: "NAME", description: "subject organizational unit (OU)" },
    "country": { type: "string", value: "CC", description: "subject country (C), two letters" },
    "state": { type: "string", value: "NAME", description: "subject state or province (ST)" },
    "locality": { type: "string", value: "NAME", description: "subject locality (L)" },
  };
}

export function subjectFrom(flags: ParsedFlags): SubjectFields {
  const value = (name: string) => flags.values[name] as string | undefined;
  return {
    country: value("country"),
    state: value("state"),
    locality: value("locality"),
    org: value("org"),
    orgUnit: value("org-unit"),
    cn: value("cn"),
  };
}

export const KEY_TYPE_FLAG: FlagSpecs = {
  "key-type": {
    type: "string",
    value: "TYPE",
    default: "rsa-2048",
    description: "rsa-2048, rsa-3072, rsa-4096, ec-p256, ec-p384, ml-dsa-44, ml-dsa-65 or ml-dsa-87",
  },
};

export function keyTypeFrom(flags: ParsedFlags): KeyType {
  return parseKeyType((flags.values["key-type"] as string | undefined) ?? "rsa-2048");
}

export const COMMON_FLAGS: FlagSpecs = {
  "force": { type: "boolean", description: "replace existing output files" },
  "json": { type: "boolean", description: "print what was written as JSON" },
};

/** A whole number ≥ 1 from a flag, or `fallback` when the flag is absent. */
function positiveInteger(flags: ParsedFlags, name: string, fallback?: number): number | undefined {
  const text = flags.values[name] as string | undefined;
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) {
    fail("InvalidSetting", `--${name} "${text}" must be a whole number of at least 1`);
  }
  return Number(text);
}

/** The last instant an X.509 time can hold (GeneralizedTime, RFC 5280 4.1.2.5): 9999-12-31T23:59:59Z. */
const LAST_X509_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59);

/**
 * A validity from `--days` or `--hours` (whole units, at least 1) in ms, checked so that the
 * certificate's notAfter (`now` plus it) is a date X.509 can hold: a huge number is a one-line
 * error naming the flag and the largest value that fits, not an unparseable certificate.
 */
export function validityMs(
  flags: ParsedFlags,
  name: "days" | "hours",
  now: Date,
  fallback?: number,
): number | undefined {
  const count = positiveInteger(flags, name, fallback);
  if (count === undefined) return undefined;
  const unitMs = name === "days" ? 86_400_000 : 3_600_000;
  const largest = Math.floor((LAST_X509_TIME_MS - now.getTime()) / unitMs);
  if (count > largest) {
    fail(
      "InvalidSetting",
      `--${name} ${
        flags.values[name]
      } would end after 9999-12-31, the last date a certificate can hold: use at most ${largest}`,
    );
  }
  return count * unitMs;
}

/**
 * How far a new certificate's notBefore is set back: a machine whose clock runs a little ahead
 * of AWS's would otherwise mint certificates Roles Anywhere calls "not yet valid".
 */
export const BACKDATE_MS = 5 * 60_000;

/** SAN values from --dns, --uri and --email, each checked for its shape. */
export function altNamesFrom(flags: ParsedFlags): { dns: string[]; uri: string[]; email: string[] } {
  const list = (name: string) => (flags.values[name] as string[] | undefined) ?? [];
  const dns = list("dns");
  const uri = list("uri");
  const email = list("email");
  for (const name of dns) {
    if (
      !/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(name)
    ) {
      fail("InvalidSetting", `--dns "${name}" is not a DNS name like app.example.com`);
    }
  }
  for (const value of uri) {
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(value) || !URL.canParse(value)) {
      fail("InvalidSetting", `--uri "${value}" is not an absolute URI like spiffe://example.org/app`);
    }
  }
  for (const value of email) {
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value)) {
      fail("InvalidSetting", `--email "${value}" is not an email address like team@example.com`);
    }
  }
  return { dns, uri, email };
}

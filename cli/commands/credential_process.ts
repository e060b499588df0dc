/** `certrole credential-process`: the credential_process drop-in for AWS's signing helper. */
import type { Command } from "../command.ts";
import { writeStdout } from "../command.ts";
import { obtainCredentials } from "../credentials/obtain.ts";
import { debugLog } from "../debug_log.ts";
import type { SessionCredentials } from "../rolesanywhere/create_session.ts";
import { SESSION_FLAGS, sessionSettingsFrom, TIMEOUT_HELP } from "../session_settings.ts";
import { readEnv } from "../process/environment.ts";

/** The exact JSON the AWS CLI and SDKs read from a credential_process. */
export function credentialProcessJson(credentials: SessionCredentials): string {
  return JSON.stringify({
    Version: 1,
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: credentials.secretAccessKey,
    SessionToken: credentials.sessionToken,
    Expiration: credentials.expiration,
  });
}

export const command: Command = {
  name: "credential-process",
  summary: "print temporary credentials as credential_process JSON",
  usage: "certrole credential-process [flags]",
  description: `
Calls IAM Roles Anywhere's CreateSession, signed with your certificate's private key, and prints
the temporary credentials in the JSON the AWS CLI and SDKs expect from a credential_process. Takes
the same flags as AWS's aws_signing_helper, each also readable from the environment.

The key may be encrypted (PKCS#8, PBES1/PBES2, legacy PEM); it is decrypted in memory only. The
passphrase comes from ROLESANYWHERE_KEY_PASSPHRASE, ROLESANYWHERE_KEY_PASSPHRASE_FILE,
--passphrase-file or --pkcs8-password.

Credentials are cached per identity and reused until --refresh-before seconds before they expire;
concurrent callers share one CreateSession. When a refresh fails (network, throttling, 5xx) while
the cache still holds unexpired credentials, those are printed with a warning.

TLS trusts the system CA store as AWS's helper finds it (SSL_CERT_FILE and SSL_CERT_DIR instead of
the system's bundle and directories), AWS_CA_BUNDLE and Deno's built-in roots. HTTPS_PROXY/NO_PROXY
and AWS_MAX_ATTEMPTS are honoured.

${TIMEOUT_HELP}`,
  flags: SESSION_FLAGS,
  examples: [
    "certrole credential-process --certificate cert.pem --private-key key.pem \\",
    "    --trust-anchor-arn arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/TA_ID \\",
    "    --profile-arn arn:aws:rolesanywhere:us-east-1:123456789012:profile/PROFILE_ID \\",
    "    --role-arn arn:aws:iam::123456789012:role/bucket-lister",
    "",
    "# in ~/.aws/config:",
    "[profile bucket-lister]",
    "credential_process = certrole credential-process --certificate /certs/cert.pem --private-key /certs/key.pem --trust-anchor-arn ... --profile-arn ... --role-arn ...",
  ],
  async run(flags) {
    const env = readEnv;
    const settings = sessionSettingsFrom(flags, env);
    const { credentials } = await obtainCredentials(settings, {
      env,
      now: () => new Date(),
      debug: debugLog(settings.debug),
    });
    writeStdout(credentialProcessJson(credentials) + "\n");
    return 0;
  },
};

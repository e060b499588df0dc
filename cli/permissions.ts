/**
 * The Deno permissions certrole runs with, in one place: the launcher (dist/certrole), the
 * compiled image binary, the self-invocation in credential_process lines and the tests all use
 * this list. --allow-ffi is for the libc calls Deno has no API for: exec's execve and the runtime
 * guard's sigaction, prctl and setrlimit (cli/process/runtime_guard.ts), in every command,
 * and the supervisor's waitid/waitpid. --allow-run is `exec --supervise` starting its command as a child.
 */
export const RUNTIME_PERMISSIONS: readonly string[] = [
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-sys",
  "--allow-ffi",
  "--allow-run",
  "--no-prompt",
];

/**
 * A command line prefix that runs the rest with / read-only, as `docker run --read-only` does: a
 * private mount namespace, / bound onto itself and remounted read-only, and the scratch
 * filesystems that are mounts of their own on some machines (/tmp, /var/tmp, /dev/shm, /run as
 * tmpfs under systemd or in a chroot) read-only too, so that "nothing is writable" holds
 * everywhere, not only where /tmp is part of /. With `tmpfs`, a fresh tmpfs is mounted there
 * (`--read-only --tmpfs PATH`).
 */
import { run } from "./run.ts";

export function readOnlyRoot(tmpfs?: string): string[] {
  const scratchMounts = `awk '$2 ~ "^/(tmp|var/tmp|dev/shm|run)$" { print $2 }' /proc/self/mounts`;
  const script = [
    "mount --bind / /",
    "mount -o remount,bind,ro /",
    `for mount in $(${scratchMounts}); do mount -o remount,bind,ro "$mount" || exit 1; done`,
    ...(tmpfs ? [`mount -t tmpfs -o mode=1777 tmpfs ${tmpfs}`] : []),
    'exec "$@"',
  ].join(" && ");
  return ["unshare", "-m", "sh", "-c", script, "sh"];
}

/** Whether tests may run commands in a private mount namespace (root, `unshare -m` allowed): readOnlyRoot's and private binds' need. */
export const canUnshareMounts = Deno.uid() === 0 &&
  (await run("unshare", ["-m", "true"]).catch(() => ({ code: 1 }))).code === 0;

#!/usr/bin/env bash
# The README's two commands on a machine fresh from its image, timed: a Debian bookworm minbase
# root file system (debootstrap) with only what our machines' image adds: node and npm (copied,
# with the npm configuration), this machine's python3 (its install mounted read-only; Debian's
# python3 when that is the one on PATH) and make. An empty Deno cache, a fresh clone of this
# repository's HEAD, entered with unshare + chroot on the host's network. It first runs
# scripts/test_peers.sh as an unprivileged user (it must stop with one line naming the command),
# then, as root, `make demo` and `make test`, which install the test peers themselves.
#
#   sudo scripts/fresh_machine_trial.sh [--keep]
#
# Root, debootstrap and several minutes (the pristine root file system is cached in
# $CERTROLE_TRIAL_DIR, default /var/tmp/certrole-fresh-trial). Not part of `make test`.
# Logs and timings stay in $CERTROLE_TRIAL_DIR/run.*/; its root file system is removed unless --keep.
set -euo pipefail

keep=false
[ "${1:-}" = --keep ] && keep=true
[ "$(id -u)" = 0 ] || { echo "fresh_machine_trial.sh needs root (debootstrap, chroot): run it with sudo" >&2; exit 1; }
for tool in debootstrap unshare chroot git node npm; do
  command -v "$tool" >/dev/null || { echo "fresh_machine_trial.sh needs $tool" >&2; exit 1; }
done

repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
commit=$(git -C "$repo" rev-parse HEAD)
[ -z "$(git -C "$repo" status --porcelain)" ] || echo "note: uncommitted changes are not part of the trial (it clones $commit)"
cache=${CERTROLE_TRIAL_DIR:-/var/tmp/certrole-fresh-trial}
mkdir -p "$cache"
pristine=$cache/bookworm-minbase.tar
if [ ! -s "$pristine" ]; then
  echo "debootstrap --variant=minbase bookworm (once; cached in $pristine)"
  rm -rf "$cache/pristine.partial"
  debootstrap --variant=minbase bookworm "$cache/pristine.partial" >"$cache/debootstrap.log" 2>&1 ||
    { tail -n 20 "$cache/debootstrap.log"; exit 1; }
  tar -C "$cache/pristine.partial" -cf "$pristine.partial" . && mv "$pristine.partial" "$pristine"
  rm -rf "$cache/pristine.partial"
fi

work=$(mktemp -d "$cache/run.XXXXXX")
root=$work/rootfs
# shellcheck disable=SC2317 # run by the trap
cleanup() {
  # The mounts live in unshare's private mount namespace; never delete through one that leaked.
  if grep -q " $root/" /proc/mounts; then echo "mounts left under $root: not removing it" >&2; return; fi
  if $keep; then echo "kept $root"; else rm -rf "${root:?}"; fi
}
trap cleanup EXIT
mkdir -p "$root"
tar -C "$root" -xf "$pristine"

# What a machine of our kind has from its image: node and npm with their npm configuration, the
# CA bundle its TLS settings name, python3 and make. Nothing else of this machine is copied.
node=$(readlink -f "$(command -v node)")
npm_dir=$(readlink -f "$(dirname "$(readlink -f "$(command -v npm)")")/..")
install -D -m 0755 "$node" "$root/usr/bin/node"
mkdir -p "$root/usr/lib/node_modules"
cp -a "$npm_dir" "$root/usr/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"
for file in "$(npm config get globalconfig)" "$(npm config get userconfig)" /etc/npmrc \
  "${SSL_CERT_FILE:-}" "${NODE_EXTRA_CA_CERTS:-}" "${DENO_CERT:-}"; do
  if [ -z "$file" ] || [ ! -f "$file" ]; then continue; fi
  target=$root$file
  [ "${file#"$HOME"/}" != "$file" ] && target=$root/root/${file#"$HOME"/}
  install -D -m 0644 "$file" "$target"
done
cp /etc/resolv.conf /etc/hosts "$root/etc/"
# python3: the machine's own (pyenv's on ours, with its boto3), mounted read-only at the same path
# and first on PATH as here; Debian's python3 when that is the one on this machine's PATH.
python_prefix=$(python3 -c "import sys; print(sys.base_prefix)")
[ "$python_prefix" = /usr ] && python_prefix=""
path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
[ -n "$python_prefix" ] && path=$python_prefix/bin:$path && mkdir -p "$root$python_prefix"
env_args=(HOME=/root LANG=C.UTF-8 "PATH=$path")
for name in SSL_CERT_FILE SSL_CERT_DIR NODE_EXTRA_CA_CERTS DENO_CERT DENO_TLS_CA_STORE \
  http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
  [ -n "${!name:-}" ] && env_args+=("$name=${!name}")
done
git clone --quiet --no-hardlinks "$repo" "$root/root/certrole"
git -C "$root/root/certrole" checkout --quiet --detach "$commit"

# Runs a bash script inside the fresh machine (own mount and PID namespaces, host network).
inside() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  unshare --mount --pid --fork --propagation private bash -c '
    set -e
    root=$1 python_prefix=$2; shift 2
    mount --bind "$root" "$root" # a mount point as /, as on a machine (unshare --mount-proc needs it)
    mount -t proc proc "$root/proc"
    [ -z "$python_prefix" ] || mount -o bind,ro "$python_prefix" "$root$python_prefix"
    mount --rbind /dev "$root/dev"
    mount --rbind /sys "$root/sys"
    mount -t tmpfs tmpfs "$root/tmp"
    exec chroot "$root" /usr/bin/env -i "$@"' inside "$root" "$python_prefix" "${env_args[@]}" bash -c "$1"
}

summary=$work/summary
log() { echo "$*" | tee -a "$summary"; }
log "fresh machine trial of $commit, $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
image_packages="make"
if [ -z "$python_prefix" ]; then
  image_packages="make python3"
else
  # The Debian libraries the machine's python3 links against (a full image has them, minbase not).
  image_packages="make $(find "$python_prefix" -name '*.so*' -type f ! -name '_tkinter*' -exec ldd {} + 2>/dev/null |
    awk '$3 ~ /^\// { print $3 }' | grep -v "^$python_prefix" | sort -u |
    while read -r lib; do dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null || true; done |
    cut -d: -f1 | sort -u | tr '\n' ' ')"
fi
echo "setting up the machine's image: python3 from ${python_prefix:-Debian}; from Debian: $image_packages"
inside "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $image_packages >/dev/null 2>&1" ||
  { echo "could not install $image_packages in the fresh root file system" >&2; exit 1; }
log "image: node $(inside "node --version"), npm $(inside "npm --version"), $(inside "python3 -c 'import sys; print(sys.executable, sys.version.split()[0])'"), /usr/bin/aws $(inside "[ -e /usr/bin/aws ] && echo present || echo absent")"

status=0
# An unprivileged user cannot install: one line naming the command, and a failing exit.
refusal=$(inside "cp /root/certrole/scripts/test_peers.sh /tmp/ && setpriv --reuid 65534 --regid 65534 --clear-groups sh /tmp/test_peers.sh test lint 2>&1" || true)
log "unprivileged scripts/test_peers.sh test lint: $refusal"
[ "$(printf '%s\n' "$refusal" | wc -l)" = 1 ] && [ "${refusal#*apt-get install}" != "$refusal" ] || status=1

for target in demo test; do
  output=$work/make-$target.log
  started=$(date +%s)
  if inside "cd /root/certrole && make $target" >"$output" 2>&1; then result=ok; else result=FAILED; status=1; fi
  seconds=$(($(date +%s) - started))
  last=$(grep -E '^(ok|FAILED) \|' "$output" | tail -n 1 || true)
  log "make $target: $result in $seconds s (${last:-$(tail -n 1 "$output")})"
  [ "$result" = ok ] || tail -n 40 "$output"
done
log "logs: $work"
exit "$status"

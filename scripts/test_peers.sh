#!/bin/sh
# The programs certrole's tests run as real peers, installed when missing. Used by `make test`,
# `make lint`, `make test-images`, the deployment tests and .ci/run, so a fresh machine needs no
# other set-up step.
#
#   scripts/test_peers.sh MODE...     MODE: test | lint | images | deploy
#
# As root with apt-get, missing packages are installed from the machine's configured Debian
# source. Otherwise it stops, before any test runs, with one line naming the command to run.
# The tests run the `python3` first on PATH, so that is the interpreter that must import boto3.
set -eu

missing=""  # Debian packages to install
other=""    # what apt-get cannot fix
add() { case " $missing " in *" $1 "*) ;; *) missing="${missing:+$missing }$1" ;; esac; }
has() { command -v "$1" >/dev/null 2>&1; }
check() {
  for mode in "$@"; do
    case $mode in
      test)
        has openssl || add openssl
        [ -x /usr/bin/aws ] || add awscli # the AWS CLI v2 (2.9 on bookworm); tests call /usr/bin/aws
        has jq || add jq
        has curl || add curl # the README blocks tests/readme_walkthrough.test.ts runs
        has pgrep || add procps
        # The AWS SDK for JavaScript v3 runs under node (npm installs it, tests/support/node_sdk.ts).
        has node || add nodejs
        has npm || add npm
        has unshare || add util-linux # PID 1 tests of exec --supervise
        if ! python3 -c "import boto3" >/dev/null 2>&1; then
          # Debian's own python3 (not a virtualenv's, not pyenv's) takes Debian's boto3.
          python=$(python3 -c "import os, sys
print(os.path.realpath(sys.executable) if sys.prefix == sys.base_prefix else sys.executable)" 2>/dev/null || true)
          case $python in
            "") add python3 && add python3-boto3 ;;
            /usr/bin/*) add python3-boto3 ;;
            *) other="$python -m pip install boto3 (the tests use this python3, the first on PATH)" ;;
          esac
        fi
        ;;
      lint) has shellcheck || add shellcheck ;;
      images | deploy)
        # runc: crun fails on our hosts' cgroups; debootstrap makes the local base images.
        for tool in podman buildah runc debootstrap; do has "$tool" || add "$tool"; done
        has newuidmap || add uidmap
        if [ "$mode" = deploy ]; then
          # podman kube play's pause image needs catatonit; the Compose test runs Debian's docker-compose
          # (1.29) against podman's Docker-compatible service.
          has catatonit || [ -x /usr/libexec/podman/catatonit ] || add catatonit
          has docker-compose || add docker-compose
        fi
        ;;
      *)
        echo "scripts/test_peers.sh: unknown mode \"$mode\": use test, lint, images or deploy" >&2
        exit 2
        ;;
    esac
  done
}

check "$@"
[ -z "$missing$other" ] && exit 0

if [ -n "$other" ]; then
  install=${missing:+sudo apt-get install -y --no-install-recommends $missing, and }$other
  echo "certrole's tests need what apt-get cannot install here: run $install" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ] || ! has apt-get; then
  if has apt-get; then
    echo "certrole's tests need packages missing here: run sudo apt-get install -y --no-install-recommends $missing" >&2
  else
    echo "certrole's tests need programs missing here: install (Debian's names) $missing" >&2
  fi
  exit 1
fi

echo "installing the test peers with apt-get: $missing"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
# shellcheck disable=SC2086 # one word per package
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing; } >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  rm -f "$log"
  echo "apt-get install $missing failed (above): fix the machine's Debian source, then run this again" >&2
  exit 1
fi
rm -f "$log"
wanted=$missing
missing=""
check "$@"
if [ -n "$missing$other" ]; then
  echo "installed $wanted, but still missing: $missing$other" >&2
  exit 1
fi

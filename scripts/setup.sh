#!/usr/bin/env bash
# Makes a fresh Debian machine ready to build and test mwan: system tools from apt
# (when missing and we are root), npm dependencies (when missing or stale).
# Usage: scripts/setup.sh   (the benchmark tools too: `npm test` runs a benchmark smoke test)
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }
have nft || need_apt+=(nftables)
have ip || need_apt+=(iproute2)
# `npm run build` compiles mwan-front, the native `mwan` that hands a command line to a running daemon.
have cc || need_apt+=(gcc libc6-dev)
have conntrack || need_apt+=(conntrack)
have iptables-legacy || need_apt+=(iptables)
have ping || need_apt+=(iputils-ping)
have socat || need_apt+=(socat)
have iperf3 || need_apt+=(iperf3)
have nginx || need_apt+=(nginx-light)
have wrk || need_apt+=(wrk)
# The bench times the CLI with GNU time (not the shell keyword) and counts its execs with strace.
[ -x /usr/bin/time ] || need_apt+=(time)
have strace || need_apt+=(strace)
# The metrics e2e test scrapes with a real Prometheus server (and checks the text with promtool);
# the live view is tested in a real terminal under tmux.
have promtool || need_apt+=(prometheus)
have tmux || need_apt+=(tmux)
# mwan use is tested with a statically linked program: BusyBox's nc.
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || need_apt+=(busybox-static)
# The package test (test/e2e/package.test.ts) lints the .deb; the man page test renders mwan(8) with groff.
have lintian || need_apt+=(lintian)
have groff || need_apt+=(groff-base)
# The wall-clock test steps the clock of one mwan watch process only, with libfaketime.
dpkg-query -W -f='${Status}' libfaketime 2>/dev/null | grep -q 'ok installed' || need_apt+=(faketime)

if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${need_apt[*]} from apt" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "setup: WARNING: missing system packages: ${need_apt[*]} (install them as root with apt-get)" >&2
  fi
fi

# npm ci when node_modules is absent or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

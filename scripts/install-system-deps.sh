#!/usr/bin/env bash
# install-system-deps.sh — install the Debian 12 packages the test suite needs.
#
# Usage:
#   scripts/install-system-deps.sh                      # everything
#   scripts/install-system-deps.sh --only socat,mosquitto
#   scripts/install-system-deps.sh --check              # report only; exit 1 if anything is missing
#
# Packages (names accepted by --only; the aliases in brackets work too):
#   socat, mosquitto, qemu-user-static [qemu], dbus [dbus-daemon], chromium
#
# Properties:
#   * Idempotent and fast: a package counts as present when the files the tests
#     use exist (no apt or dpkg call at all then). `apt-get update` runs only
#     when something is missing, and at most once.
#   * Non-interactive (DEBIAN_FRONTEND=noninteractive, --no-install-recommends).
#   * Never leaves a service running: package maintainer scripts are told not
#     to start services (policy-rc.d exit 101), and any mosquitto / dbus-daemon
#     process that appears during the install is stopped by its pid.
#   * Prints one line per selected package: "<name>: present" or "<name>: installed".
set -euo pipefail

ALL_PACKAGES=(socat mosquitto qemu-user-static dbus chromium)

# Files that prove a package is usable (absolute paths, so that a PATH without
# /usr/sbin, as for mosquitto, does not matter).
declare -A PROOF=(
  [socat]="/usr/bin/socat"
  [mosquitto]="/usr/sbin/mosquitto"
  [qemu-user-static]="/usr/bin/qemu-aarch64-static /usr/bin/qemu-arm-static /usr/bin/qemu-x86_64-static"
  [dbus]="/usr/bin/dbus-daemon"
  [chromium]="/usr/bin/chromium"
)

# Daemons whose package may try to start them during installation.
DAEMONS=(mosquitto dbus-daemon)

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

log() { printf '%s\n' "$*"; }
die() { printf 'install-system-deps: %s\n' "$*" >&2; exit 1; }

# --- arguments ---------------------------------------------------------------
only_list=""
check_only=0
while (($#)); do
  case "$1" in
    --only) [[ $# -ge 2 ]] || die "--only needs a comma-separated list"; only_list="$2"; shift 2 ;;
    --only=*) only_list="${1#--only=}"; shift ;;
    --check) check_only=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

selected=()
if [[ -z "$only_list" ]]; then
  selected=("${ALL_PACKAGES[@]}")
else
  IFS=',' read -r -a names <<<"$only_list"
  for name in "${names[@]}"; do
    name="${name// /}"
    [[ -z "$name" ]] && continue
    case "$name" in
      qemu|qemu-user) name=qemu-user-static ;;
      dbus-daemon) name=dbus ;;
    esac
    [[ -n "${PROOF[$name]+x}" ]] || die "unknown package '$name' (known: ${ALL_PACKAGES[*]})"
    # keep each package once
    [[ " ${selected[*]} " == *" $name "* ]] || selected+=("$name")
  done
  ((${#selected[@]})) || die "--only: empty list"
fi

is_present() {
  local f
  for f in ${PROOF[$1]}; do
    [[ -x "$f" ]] || return 1
  done
}

# --- what is missing ---------------------------------------------------------
missing=()
for pkg in "${selected[@]}"; do
  is_present "$pkg" || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  for pkg in "${selected[@]}"; do log "$pkg: present"; done
  exit 0
fi
if ((check_only)); then
  for pkg in "${selected[@]}"; do
    if is_present "$pkg"; then log "$pkg: present"; else log "$pkg: missing"; fi
  done
  exit 1
fi

# --- install -----------------------------------------------------------------
SUDO=()
if ((EUID != 0)); then
  command -v sudo >/dev/null 2>&1 || die "must run as root (or have sudo) to install: ${missing[*]}"
  SUDO=(sudo)
fi

# pids of the daemons we watch, one per line (empty if none).
daemon_pids() {
  local d
  for d in "${DAEMONS[@]}"; do
    pidof "$d" 2>/dev/null | tr ' ' '\n' || true
  done | sed '/^$/d' | sort -n
}
pids_before="$(daemon_pids)"

# Forbid service starts from maintainer scripts, unless a policy already exists
# (Docker-style images ship one that does the same).
POLICY=/usr/sbin/policy-rc.d
created_policy=0
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  if ((created_policy)); then "${SUDO[@]}" rm -f "$POLICY"; fi
}
trap cleanup EXIT
if [[ ! -e "$POLICY" ]]; then
  printf '#!/bin/sh\n# temporary, from iosnet scripts/install-system-deps.sh\nexit 101\n' |
    "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
  created_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-q -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

# Logs of apt go to stderr so that stdout stays one line per package.
"${SUDO[@]}" apt-get "${APT_OPTS[@]}" update >&2
"${SUDO[@]}" apt-get "${APT_OPTS[@]}" install -y --no-install-recommends "${missing[@]}" >&2

# Stop any watched daemon that the installation started (by pid, never by name).
pids_after="$(daemon_pids)"
new_pids="$(comm -13 <(printf '%s\n' "$pids_before") <(printf '%s\n' "$pids_after") | sed '/^$/d')"
for pid in $new_pids; do
  printf 'install-system-deps: stopping %s (pid %s) started by the package install\n' \
    "$(cat "/proc/$pid/comm" 2>/dev/null || echo '?')" "$pid" >&2
  "${SUDO[@]}" kill "$pid" 2>/dev/null || true
done
for pid in $new_pids; do
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then "${SUDO[@]}" kill -9 "$pid" 2>/dev/null || true; fi
done

# --- report ------------------------------------------------------------------
status=0
for pkg in "${selected[@]}"; do
  if ! is_present "$pkg"; then
    log "$pkg: FAILED (missing after install: ${PROOF[$pkg]})"
    status=1
  elif [[ " ${missing[*]} " == *" $pkg "* ]]; then
    log "$pkg: installed"
  else
    log "$pkg: present"
  fi
done
exit "$status"

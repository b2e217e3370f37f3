#!/usr/bin/env bash
# setup.sh — install obr's build dependencies from Debian packages (when missing), then
# configure and build a preset. Safe to run again: installs nothing that is present and
# rebuilds incrementally.
#
#   bash scripts/setup.sh            # release preset
#   bash scripts/setup.sh asan       # ASan + UBSan debug preset
#   bash scripts/setup.sh fuzz       # clang libFuzzer targets (installs clang too)
#   OBR_SKIP_INSTALL=1 bash scripts/setup.sh   # build only
set -euo pipefail

cd "$(dirname "$0")/.."
preset="${1:-release}"

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libsimdjson-dev libabsl-dev zlib1g-dev libisal-dev libzstd-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-format
  # The bus (docs/bus.md): the NATS C client, and the server its tests and `obr
  # cluster-demo` start.
  libnats-dev nats-server
  # The CLI tests read /metrics and /health with curl (tests/cli/run_bus.sh, run_service.sh).
  curl
)
# The fuzz preset builds with clang and links libFuzzer (in the compiler-rt package).
if [ "$preset" = "fuzz" ]; then
  packages+=(clang libclang-rt-14-dev)
fi

install_missing() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all ${#packages[@]} packages present"
    return
  fi
  echo "setup: installing ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

if [ "${OBR_SKIP_INSTALL:-0}" != "1" ]; then
  install_missing
fi

jobs="${OBR_JOBS:-2}"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs"
echo "setup: built preset '$preset' in build/$preset"

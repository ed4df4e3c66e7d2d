#!/usr/bin/env bash
# Installs the Debian packages capsim needs to build, test and benchmark.
# Idempotent: packages already present are left as they are.
set -euo pipefail

packages=(
  build-essential cmake ninja-build clang-format
  libeigen3-dev libboost-dev libboost-program-options-dev libyaml-cpp-dev libnlopt-cxx-dev
  libhdf5-dev hdf5-tools catch2 librandom123-dev libbenchmark-dev
  libopenmpi-dev openmpi-bin
  clang libclang-rt-14-dev
  libjs-chart.js chromium python3-h5py python3-numpy
  python3-pandas python3-xarray python3-h5netcdf python3-matplotlib
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

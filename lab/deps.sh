#!/usr/bin/env bash
# Install what the lab needs from Debian 12, only when something is missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

host_pkgs=(gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu qemu-system-arm
	linux-source-6.12 bc flex bison libssl-dev libelf-dev device-tree-compiler
	ccache cpio xz-utils gzip sparse python3 python3-docutils kmod rsync
	libnuma-dev make gcc patch)
arm64_pkgs=(libnuma-dev:arm64)

missing=()
for p in "${host_pkgs[@]}" "${arm64_pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} = 0 ] && { lab_say "dependencies present"; exit 0; }

[ "$(id -u)" = 0 ] && sudo= || sudo=sudo
lab_say "installing: ${missing[*]}"
dpkg --print-foreign-architectures | grep -qx arm64 || $sudo dpkg --add-architecture arm64
$sudo apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
	"${missing[@]}" >/dev/null
lab_say "dependencies installed"

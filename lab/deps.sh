#!/usr/bin/env bash
# Install what the lab needs from Debian 12, only when something is missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

host_pkgs=(gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu
	linux-source-6.12 bc flex bison libssl-dev libelf-dev device-tree-compiler
	ccache cpio xz-utils gzip sparse python3 python3-docutils kmod rsync
	libnuma-dev make gcc patch)
arm64_pkgs=(libnuma-dev:arm64)

# QEMU 7.2 (bookworm) fails 27 upstream MTE selftest cases that pass on 10.0
# and cannot run HW tag-based KASAN; 10.0 from bookworm-backports can.
qemu_major=10
backports=/etc/apt/sources.list.d/mte-tag-node-backports.sources

qemu_is_recent() {
	local v
	v=$(qemu-system-aarch64 --version 2>/dev/null | sed -n 's/.*version \([0-9]*\)\..*/\1/p;q')
	[ -n "$v" ] && [ "$v" -ge $qemu_major ]
}

missing=()
for p in "${host_pkgs[@]}" "${arm64_pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} = 0 ] && qemu_is_recent; then
	lab_say "dependencies present"
	exit 0
fi

[ "$(id -u)" = 0 ] && sudo= || sudo=sudo
dpkg --print-foreign-architectures | grep -qx arm64 || $sudo dpkg --add-architecture arm64
if ! apt-cache policy 2>/dev/null | grep -q bookworm-backports; then
	printf '%s\n' "Types: deb" "URIs: http://deb.debian.org/debian" \
		"Suites: bookworm-backports" "Components: main" \
		"Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" |
		$sudo tee "$backports" >/dev/null
fi
$sudo apt-get update -q >/dev/null
if [ ${#missing[@]} != 0 ]; then
	lab_say "installing: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >/dev/null
fi
if ! qemu_is_recent; then
	lab_say "installing QEMU $qemu_major from bookworm-backports"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
		-t bookworm-backports qemu-system-arm >/dev/null
fi
qemu_is_recent || lab_die "QEMU $qemu_major or newer is required"
lab_say "dependencies installed"

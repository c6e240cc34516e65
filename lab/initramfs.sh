#!/usr/bin/env bash
# Build the guest initramfs: busybox, numactl and libnuma from Debian's
# arm64 packages, the guest tests, the mte-numa tool, the upstream arm64
# MTE selftests and the admin guide.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

debs=$LAB_BUILD/debs
root=$LAB_BUILD/initramfs
out=$LAB_BUILD/initramfs.cpio.gz
pkgs=(busybox-static libc6 libnuma1 numactl)

fetch_debs() {
	local p missing=()
	mkdir -p "$debs"
	for p in "${pkgs[@]}"; do
		compgen -G "$debs/${p}_*_arm64.deb" >/dev/null || missing+=("$p:arm64")
	done
	[ ${#missing[@]} = 0 ] && return
	lab_say "downloading ${missing[*]}"
	(cd "$debs" && apt-get download -q "${missing[@]}" >/dev/null)
}

build_selftests() {
	local dst=$LAB_BUILD/selftests
	[ -x "$dst/arm64/check_tags_inclusion" ] && return
	lab_say "building the upstream arm64 MTE selftests"
	make -s -C "$LAB_SRC/tools/testing/selftests" TARGETS=arm64 ARM64_SUBTARGETS=mte \
		ARCH=arm64 CROSS_COMPILE="$LAB_CROSS" INSTALL_PATH="$dst" \
		O="$LAB_BUILD/selftests-obj" install >"$LAB_BUILD/selftests.log" 2>&1 ||
		lab_die "selftests build failed: see $LAB_BUILD/selftests.log"
}

build_guest_programs() {
	make -s -C "$LAB_TOP/tools/mte-numa" CROSS_COMPILE="$LAB_CROSS" \
		OUT="$LAB_BUILD/guest-bin" guest
}

populate() {
	local d
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,mnt,lab/bin,lab/selftests}
	for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$root"; done
	rm -rf "$root"/usr/share/{doc,man,locale,lintian,info} "$root"/usr/lib/*/gconv

	for d in $(busybox_applets); do
		[ -e "$root/bin/$d" ] || [ -e "$root/usr/bin/$d" ] || ln -s busybox "$root/bin/$d"
	done
	cp -a "$LAB_TOP/lab/guest/." "$root/lab/"
	cp -a "$LAB_BUILD/guest-bin/." "$root/lab/bin/"
	cp -a "$LAB_BUILD"/selftests/arm64/check_* "$root/lab/selftests/"
	# The admin guide, whose recipes a guest test runs as written.
	mkdir -p "$root/lab/doc"
	cp "$LAB_TOP/Documentation/admin-guide/mm/mte-tag-node.rst" "$root/lab/doc/"
	mv "$root/lab/init" "$root/init"
	chmod +x "$root/init"
}

# The applets of a static busybox cannot be listed without running it; this
# is the set the guest scripts use.
busybox_applets() {
	echo sh ash cat echo ls mount umount mkdir rm cp mv ln grep egrep sed awk \
	     sort uniq head tail wc cut tr seq sleep dd cmp md5sum sha1sum poweroff \
	     reboot dmesg find xargs printf test expr true false kill ps free \
	     chmod mknod mkswap swapon swapoff timeout stat hexdump od tee basename \
	     dirname uname env date readlink realpath sync which od diff
}

fetch_debs
build_selftests
build_guest_programs
populate
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -1) > "$out.tmp"
mv "$out.tmp" "$out"
lab_say "initramfs: $(du -h "$out" | cut -f1)"

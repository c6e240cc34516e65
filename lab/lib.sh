# shellcheck shell=bash
# Common settings for the lab scripts. Source it; do not run it.

LAB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_BUILD=${LAB_BUILD:-$LAB_TOP/build}
LAB_SRC=$LAB_BUILD/src/linux		# pristine tree + our files + our patches
LAB_PRISTINE=$LAB_BUILD/src/pristine	# untouched Debian tree (patch bases)
LAB_LOGS=$LAB_BUILD/logs
LAB_TARBALL=/usr/src/linux-source-6.12.tar.xz
LAB_JOBS=${LAB_JOBS:-$(nproc)}
LAB_CROSS=aarch64-linux-gnu-

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/mte-tag-node-ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
# Kernel builds hash the full path of every source: a fixed tree path lets a
# fresh clone elsewhere reuse the cache.
export CCACHE_BASEDIR=$LAB_BUILD
export CCACHE_NOHASHDIR=1

lab_say() { printf '[lab] %s\n' "$*" >&2; }
lab_die() { printf '[lab] error: %s\n' "$*" >&2; exit 1; }

# lab_obj VARIANT: the out-of-tree object directory of a kernel variant.
lab_obj() { echo "$LAB_BUILD/obj/$1"; }

lab_kmake() {
	local obj=$1; shift
	make -s -C "$LAB_SRC" O="$obj" ARCH=arm64 CROSS_COMPILE="$LAB_CROSS" \
		CC="ccache ${LAB_CROSS}gcc" -j"$LAB_JOBS" "$@"
}

# The entries of patches/series, in order: "PATCH NEW-FILE...". With
# LAB_SERIES_PREFIX=K, only the first K (to build a prefix of the series).
lab_series() {
	grep -v '^#' "$LAB_TOP/patches/series" | awk 'NF' | head -n "${LAB_SERIES_PREFIX:-1000}"
}

# The patch files in series order.
lab_patches() {
	lab_series | awk -v d="$LAB_TOP/patches/" '{ print d $1 }'
}

# The new files the series adds, at their kernel paths.
lab_new_files() {
	lab_series | awk '{ for (i = 2; i <= NF; i++) print $i }'
}

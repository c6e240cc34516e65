#!/usr/bin/env bash
# Prepare the kernel tree and build a kernel variant.
#
#   lab/kernel.sh tree            pristine tree + our files + our patch series
#   lab/kernel.sh build [VARIANT] configure and build Image (VARIANT: lab, debug,
#                                 kasanhw)
#
# The tree is updated file by file, and only files whose content changed are
# rewritten, so make rebuilds only what really changed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

extract_pristine() {
	local stamp=$LAB_BUILD/src/.pristine-version want
	want=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	if [ -d "$LAB_PRISTINE" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
		return
	fi
	lab_say "extracting linux-source-6.12 $want"
	rm -rf "$LAB_PRISTINE" "$LAB_SRC" "$LAB_BUILD/src/.manifest"
	mkdir -p "$LAB_BUILD/src"
	tar -C "$LAB_BUILD/src" -xf "$LAB_TARBALL"
	mv "$LAB_BUILD/src/linux-source-6.12" "$LAB_PRISTINE"
	cp -a "$LAB_PRISTINE" "$LAB_SRC"
	echo "$want" > "$stamp"
}

# Files the series adds or changes, relative to the tree top.
touched_files() {
	lab_new_files
	lab_patches | xargs -r sed -n 's|^+++ b/||p' | sort -u
}

# Build the wanted content of every touched file in a scratch directory,
# then copy over only what differs.
stage_tree() {
	local stage f p
	stage=$(mktemp -d)
	trap 'rm -rf "$stage"' RETURN
	touched_files | sort -u > "$stage.list"
	while read -r f; do
		if [ -e "$LAB_PRISTINE/$f" ]; then
			mkdir -p "$stage/$(dirname "$f")"
			cp "$LAB_PRISTINE/$f" "$stage/$f"
		fi
	done < "$stage.list"
	for f in $(lab_new_files); do
		[ -e "$LAB_TOP/$f" ] || lab_die "new file $f is missing"
		mkdir -p "$stage/$(dirname "$f")"
		cp "$LAB_TOP/$f" "$stage/$f"
	done
	while read -r p; do
		patch -s -p1 -d "$stage" --no-backup-if-mismatch -F0 < "$p" ||
			lab_die "patch $(basename "$p") does not apply to linux-source-6.12"
	done < <(lab_patches)

	# Put back pristine copies of files an earlier series touched.
	if [ -f "$LAB_BUILD/src/.manifest" ]; then
		while read -r f; do
			grep -qxF "$f" "$stage.list" && continue
			if [ -e "$LAB_PRISTINE/$f" ]; then
				cp "$LAB_PRISTINE/$f" "$LAB_SRC/$f"
			else
				rm -f "$LAB_SRC/$f"
			fi
		done < "$LAB_BUILD/src/.manifest"
	fi
	while read -r f; do
		if ! cmp -s "$stage/$f" "$LAB_SRC/$f"; then
			mkdir -p "$LAB_SRC/$(dirname "$f")"
			cp "$stage/$f" "$LAB_SRC/$f"
		fi
	done < "$stage.list"
	mv "$stage.list" "$LAB_BUILD/src/.manifest"
}

configure() {
	local variant=$1 obj frags want
	obj=$(lab_obj "$variant")
	frags=("$LAB_TOP/lab/config/lab.config")
	[ -f "$LAB_TOP/lab/config/$variant.config" ] && frags+=("$LAB_TOP/lab/config/$variant.config")
	# Kconfig.mte is absent in the first prefix of the series.
	want=$({ cat "${frags[@]}"; cat "$LAB_SRC/Kconfig.mte" 2>/dev/null || true; } |
		sha1sum | cut -c1-40)
	if [ -f "$obj/.config" ] && [ "$(cat "$obj/.lab-config" 2>/dev/null)" = "$want" ]; then
		return
	fi
	lab_say "configuring $variant kernel"
	mkdir -p "$obj"
	lab_kmake "$obj" allnoconfig >/dev/null
	(cd "$obj" && KCONFIG_CONFIG=.config "$LAB_SRC/scripts/kconfig/merge_config.sh" \
		-m -O "$obj" .config "${frags[@]}" >/dev/null)
	lab_kmake "$obj" olddefconfig >/dev/null
	# A prefix of the series may lack the options it has not added yet.
	[ "$variant" = series ] || check_config "$obj" "${frags[@]}"
	echo "$want" > "$obj/.lab-config"
}

# Every option the fragments ask for must have survived olddefconfig.
check_config() {
	local obj=$1 bad=0 line; shift
	while read -r line; do
		grep -qxF "$line" "$obj/.config" || { lab_say "config: $line did not stick"; bad=1; }
	done < <(cat "$@" | grep -E '^CONFIG_[A-Z0-9_]+=')
	[ $bad = 0 ] || lab_die "the config fragment asks for options Kconfig refused"
}

build() {
	local variant=${1:-lab} obj start
	obj=$(lab_obj "$variant")
	command -v ccache >/dev/null || lab_die "ccache missing: run lab/deps.sh"
	configure "$variant"
	start=$(date +%s)
	lab_say "building $variant kernel (ccache: $CCACHE_DIR)"
	if ! lab_kmake "$obj" Image > "$obj/build.log" 2>&1; then
		grep -v '^  ' "$obj/build.log" | tail -40 >&2
		lab_die "kernel build failed: see $obj/build.log"
	fi
	grep -v '^  ' "$obj/build.log" >&2 || true
	{
		echo "kernel: $(lab_kmake "$obj" kernelversion)"
		echo "source: linux-source-6.12 $(cat "$LAB_BUILD/src/.pristine-version")"
		echo "series: $(lab_patches | wc -l) patches, $(git -C "$LAB_TOP" describe --always --dirty 2>/dev/null)"
	} > "$obj/version.txt"
	lab_say "built $(sed -n 1p "$obj/version.txt") ($variant) in $(( $(date +%s) - start )) s"
}

case "${1:-}" in
tree)	extract_pristine; stage_tree ;;
build)	extract_pristine; stage_tree; build "${2:-lab}" ;;
*)	echo "usage: $0 tree | build [lab|debug|kasanhw|series]" >&2; exit 2 ;;
esac

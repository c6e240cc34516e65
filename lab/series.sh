#!/usr/bin/env bash
# The change as a patch series on top of the pristine Debian tree.
#
#   lab/series.sh emit    git format-patch series with a cover letter in
#                         build/series/ (new files go in with the patch that
#                         wires them into the build, as patches/series says)
#   lab/series.sh check   build the kernel at every prefix of the series
set -euo pipefail
. "$(dirname "$0")/lib.sh"

emit() {
	local repo=$LAB_BUILD/series-git out=$LAB_BUILD/series f p new subject
	"$LAB_TOP/lab/kernel.sh" tree
	rm -rf "$repo" "$out"
	mkdir -p "$repo"
	git -C "$repo" init -q
	git -C "$repo" config user.name "mte-tag-node developers"
	git -C "$repo" config user.email "mte-tag-node@example.org"
	# The base holds only the pristine files the series touches: enough for
	# format-patch, and the patches apply to the whole tree alike.
	while read -r f; do
		[ -e "$LAB_PRISTINE/$f" ] || continue
		mkdir -p "$repo/$(dirname "$f")"
		cp "$LAB_PRISTINE/$f" "$repo/$f"
	done < "$LAB_BUILD/src/.manifest"
	git -C "$repo" add -A
	git -C "$repo" commit -qm "linux-source-6.12 $(cat "$LAB_BUILD/src/.pristine-version") (files the series touches)"
	git -C "$repo" tag base
	while read -r p new; do
		for f in $new; do
			mkdir -p "$repo/$(dirname "$f")"
			cp "$LAB_TOP/$f" "$repo/$f"
		done
		git -C "$repo" apply --index "$LAB_TOP/patches/$p"
		git -C "$repo" add -A
		subject=$(sed -n 's/^Subject: \[PATCH\] //p' "$LAB_TOP/patches/$p")
		sed -n '/^Subject:/,/^---$/p' "$LAB_TOP/patches/$p" | sed '1d;$d' |
			{ echo "$subject"; cat; } | git -C "$repo" commit -q -F -
	done < <(lab_series)
	git -C "$repo" format-patch -q --cover-letter -o "$out" base..HEAD
	python3 - "$out"/0000-cover-letter.patch "$LAB_TOP/patches/cover-letter" <<'PY'
import sys
cover, text = sys.argv[1], open(sys.argv[2]).read().split("\n", 1)
s = open(cover).read()
s = s.replace("*** SUBJECT HERE ***", text[0].strip())
s = s.replace("*** BLURB HERE ***", text[1].strip())
open(cover, "w").write(s)
PY
	lab_say "series: $(ls "$out" | wc -l) files in $out"
	ls "$out"
}

check() {
	local n k failed=0
	n=$(lab_series | wc -l)
	for k in $(seq 1 "$n"); do
		if LAB_SERIES_PREFIX=$k "$LAB_TOP/lab/kernel.sh" build series >&2; then
			echo "ok $k - the kernel builds with patches 1..$k"
		else
			echo "not ok $k - the kernel builds with patches 1..$k"
			failed=1
		fi
	done
	# Leave the tree as the whole series makes it.
	"$LAB_TOP/lab/kernel.sh" tree
	echo "1..$n"
	return $failed
}

case "${1:-}" in
emit)	emit ;;
check)	check ;;
*)	echo "usage: $0 emit | check" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Static checks over our code, as TAP: checkpatch --strict over every new
# file and every patch, sparse over our objects, and a W=1 build of them.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

n=0
point() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
checkpatch() { "$LAB_SRC/scripts/checkpatch.pl" --no-tree --strict --quiet --show-types "$@"; }

for f in $(lab_new_files); do
	case $f in *.rst) continue ;; esac
	out=$(checkpatch -f "$LAB_SRC/$f" 2>&1)
	point $? "checkpatch --strict $f"
	[ -n "$out" ] && echo "$out" | sed 's/^/# /'
done
# The series as reviewers get it: git format-patch output, new files included.
"$LAB_TOP/lab/series.sh" emit >/dev/null 2>&1
point $? "the series emits as git format-patch"
for p in "$LAB_BUILD"/series/0*.patch; do
	case $p in *0000-cover-letter.patch) continue ;; esac
	out=$(checkpatch --ignore FILE_PATH_CHANGES "$p" 2>&1)
	point $? "checkpatch --strict $(basename "$p")"
	[ -n "$out" ] && echo "$out" | sed 's/^/# /'
done

objs=(arch/arm64/mm/mte_numa.o arch/arm64/mm/mte_numa_kunit.o drivers/memory/mte_tag_node.o)
obj=$(lab_obj lab)
out=$(lab_kmake "$obj" C=2 CHECK="sparse" "${objs[@]}" 2>&1 | grep -E "mte_numa|mte_tag_node" | grep -v "^  ")
[ -z "$out" ]; point $? "sparse is clean on our files"
[ -n "$out" ] && echo "$out" | sed 's/^/# /'
out=$(lab_kmake "$obj" W=1 "${objs[@]}" 2>&1 | grep -E "warning|error")
[ -z "$out" ]; point $? "W=1 build of our files has no warning"
[ -n "$out" ] && echo "$out" | sed 's/^/# /'
# Put the objects back as the normal build makes them.
lab_kmake "$obj" "${objs[@]}" >/dev/null 2>&1
if command -v rst2html >/dev/null || command -v rst2html.py >/dev/null; then
	rst=$(command -v rst2html || command -v rst2html.py)
	out=$("$rst" --halt=warning "$LAB_TOP/Documentation/admin-guide/mm/mte-tag-node.rst" 2>&1 >/dev/null)
	point $? "the admin guide builds with docutils without warnings"
	[ -n "$out" ] && echo "$out" | sed 's/^/# /'
fi
echo "1..$n"

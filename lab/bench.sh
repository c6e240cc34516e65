#!/usr/bin/env bash
# Benchmarks: ratios measured side by side in one run, each printed beside
# its bar from BRIEF section 6. Not pass/fail tests.
#
#   lab/bench.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$LAB_TOP/lab/kernel.sh" build lab >&2
"$LAB_TOP/lab/initramfs.sh" >&2
on=$("$LAB_TOP/lab/qemu.sh" default demo)
off=$("$LAB_TOP/lab/qemu.sh" off demo)
echo "== net memory gained at idle (feature on vs mte_tag_node=off, same layout)"
"$LAB_TOP/lab/netgain.sh" "$on" "$off" | sed 's/^# //; s/^ok 1 - /bar met: /; s/^not ok 1 - /BAR NOT MET: /; /^1\.\./d'

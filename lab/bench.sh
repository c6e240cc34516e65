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
none=$("$LAB_TOP/lab/qemu.sh" notag demo)
# With a second node holding memory at boot (the off case), the dentry and
# inode hashes are vmalloc()ed and counted in MemTotal; with one they come
# from memblock and are not. hashdist=0 takes that 6 MiB out of the ratio.
gain_on=$("$LAB_TOP/lab/qemu.sh" gain-on demo)
gain_off=$("$LAB_TOP/lab/qemu.sh" gain-off demo)
report() { sed 's/^# //; s/^ok 1 - /bar met: /; s/^not ok 1 - /BAR NOT MET: /; /^1\.\./d'; }
echo "== net memory gained at idle: feature on vs mte_tag_node=off, both hashdist=0"
"$LAB_TOP/lab/netgain.sh" "$gain_on" "$gain_off" | report
echo "== the same with the boot-time hash placement left to the kernel"
"$LAB_TOP/lab/netgain.sh" "$on" "$off" | report
echo "== net memory gained at idle: feature on vs no tag storage described (upstream firmware)"
"$LAB_TOP/lab/netgain.sh" "$on" "$none" | report
echo "== node sizes (numactl -H)"
for log in "$on" "$off" "$none"; do
	printf '%-28s %s\n' "$(basename "$log")" "$(grep -a 'node [0-9] size' "$log" | sed 's/^# //' | tr '\n' ' ')"
done

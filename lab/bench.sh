#!/usr/bin/env bash
# Benchmarks: ratios measured side by side in one run, each printed beside
# its bar from BRIEF section 6. Not pass/fail tests. The boots run one after
# the other on a shared machine under TCG: only ratios mean anything.
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
# mte-numa bench in the guest, feature on and off: first touch compared
# across boots, the rest (evacuation vs memcpy, tag efficiency, latency)
# within the first feature-on boot. The boots alternate, on, off, on, off,
# and each figure is the best of its kind, so that a load that comes and
# goes on the machine does not land on one side only. BENCH_ROUNDS pairs
# of boots (default 2): under TCG, boots differ by 10% or more.
on_logs=; off_logs=
for round in $(seq 1 "${BENCH_ROUNDS:-2}"); do
	for scenario in default off; do
		log=$("$LAB_TOP/lab/qemu.sh" "$scenario" bench)
		cp "$log" "${log%.log}.$round.log"
		log=${log%.log}.$round.log
		python3 "$LAB_TOP/lab/logtap.py" "$log" | grep '^not ok' | sed "s|^|# $(basename "$log"): |" || true
		if [ "$scenario" = default ]; then on_logs+=${on_logs:+,}$log; else off_logs+=${off_logs:+,}$log; fi
	done
done
python3 "$LAB_TOP/lab/benchjson.py" ratios "$on_logs" "$off_logs"

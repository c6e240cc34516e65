#!/bin/sh
# mte-numa bench, small: every figure is produced and the JSON carries them.
# Not a measurement (sizes are tiny); lab/benchjson.py checks the JSON on
# the host, from the "# BENCHJSON" lines.
. /lab/lib.sh

echo 100 > /sys/kernel/mm/mte_tag_node/release_delay_ms
mte-numa bench --quick --json > /tmp/benchquick.json 2> /tmp/benchquick.err
rc=$?
sed 's/^/# BENCHJSON /' /tmp/benchquick.json
sed 's/^/# stderr: /' /tmp/benchquick.err
check_eq "mte-numa bench --quick --json exits 0" "$rc" 0
json=$(cat /tmp/benchquick.json)
check_match "the tag nodes are active for it" "$json" '"tag_nodes_active": true'
check_match "it saw reservations" "$json" '"reservations": [1-9]'
check_match "it measured move_pages beside memcpy" "$json" '"move_pages_mib_s": [0-9]'
check_match "it switched the hardware model off to measure" "$json" '"hw_model_switched_off": true'
check_eq "the hardware model is back on after it" "$(cat /sys/kernel/debug/mte_tag_node/hw_model)" Y
# Packing: about 41 tagged pages of a 16 MiB heap share a few blocks (up
# to 4, with a chunk on each CPU); unpacked, each takes a block of its own.
scattered=$(printf '%s\n' "$json" | sed -n '/"scattered"/,/"value"/s/.*"value": \([0-9.]*\).*/\1/p')
diag "scattered tag efficiency: $scattered"
check "scattered tagged pages share blocks (efficiency >= 0.25)" \
	awk -v e="$scattered" 'BEGIN { exit !(e != "" && e >= 0.25) }'
# The reservations' share of the idle THP touch: measured, so above 0,
# and part of the touch, so below 1.
share=$(printf '%s\n' "$json" | sed -n '/"thp"/,/"idle_reserve_share"/s/.*"idle_reserve_share": \([0-9.e-]*\).*/\1/p' | head -1)
diag "share of the idle THP touch spent reserving: $share"
check "the idle THP touch's reservations are timed (0 < share < 1)" \
	awk -v v="$share" 'BEGIN { exit !(v != "" && v > 0 && v < 1) }'
check_match "it reports no problem" "$json" '"problems": \[\]'
check "the tracing instance is gone" test ! -e /sys/kernel/tracing/instances/mte-numa-bench
out=$(mte-numa bench --quick 2>&1)
check_match "the table shows the bars" "$out" 'tag efficiency, bulk PROT_MTE +[0-9.]+ +>= 0.95'
echo 1000 > /sys/kernel/mm/mte_tag_node/release_delay_ms
done_testing

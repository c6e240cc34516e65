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
check_match "it reports no problem" "$json" '"problems": \[\]'
check "the tracing instance is gone" test ! -e /sys/kernel/tracing/instances/mte-numa-bench
out=$(mte-numa bench --quick 2>&1)
check_match "the table shows the bars" "$out" 'tag efficiency, bulk PROT_MTE +[0-9.]+ +>= 0.95'
echo 1000 > /sys/kernel/mm/mte_tag_node/release_delay_ms
done_testing

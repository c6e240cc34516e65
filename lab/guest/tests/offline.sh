#!/bin/sh
# Offlining: a tag node memory block holding a block in tag use refuses;
# one holding only untagged data offlines (its data migrates) and comes back.
. /lab/lib.sh

top=/sys/kernel/mm/mte_tag_node
block_of() { printf 'memory%d' $(( $1 / 0x8000000 )); }

for dir in $top/region*; do
	r=$(basename "$dir")
	nid=$(cat "$dir/node")
	range=$(cat "$dir/online_range")
	mem=/sys/devices/system/memory/$(block_of "${range%-*}")
	if [ "$(cat "$dir/blocks_tags")" -gt 0 ]; then
		echo offline > "$mem/state" 2>/tmp/err
		check "$r: offlining a block with tags in use fails" grep -q "busy" /tmp/err
		check_eq "$r: and the block stays online" "$(cat "$mem/state")" online
		continue
	fi
	hold_start 64 /tmp/off-$r numactl --membind="$nid" --
	check "$r: offline succeeds with 64 MiB of data on it" sh -c "echo offline > $mem/state"
	check_eq "$r: the node has no memory left" "$(node_kb "$nid" MemTotal)" 0
	check "$r: the data survived the migration" hold_finish /tmp/off-$r
	check "$r: online_movable brings it back" sh -c "echo online_movable > $mem/state"
	check "$r: the node has memory again" [ "$(node_kb "$nid" MemTotal)" -gt 100000 ]
done
done_testing

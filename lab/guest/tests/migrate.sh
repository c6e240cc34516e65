#!/bin/sh
# Tagged pages migrated between two DRAM nodes (R26): the destination's
# tag blocks are claimed before the tags are copied, even when the tag
# node that holds them is full of data. Scenario "two": nodes 0 and 2 hold
# DRAM and CPUs, each with its own tag node.
. /lab/lib.sh

# The region whose data is node 2's memory, and its tag node.
for r in /sys/kernel/mm/mte_tag_node/region*; do
	start=$(sed 's/-.*//' "$r/data_range")
	[ $((start)) -ge $((0x140000000)) ] && region=$r
done
check "a region serves node 2" [ -n "${region:-}" ]
tnid=$(cat "$region/node")
diag "node 2's tags live on tag node $tnid ($(basename "$region"))"
echo 100 > /sys/kernel/mm/mte_tag_node/release_delay_ms
baseline=$(blocks_held "$region")

# Every block of node 2's tag storage holds data: each move must evacuate.
# (Preferred, not bound: a bound fill once went below the node's watermark.)
hold_start $(($(node_kb "$tnid" MemFree) / 1024 - 1)) /tmp/fill numactl --preferred="$tnid" --
diag "tag node $tnid free after the fill: $(node_kb "$tnid" MemFree) kB"

out=$(mtex move_pages 2)
check_eq "move_pages: the tagged page moved to node 2" "$(field "$out" tagged_status)" 2
check_eq "move_pages: the untagged page moved to node 2" "$(field "$out" untagged_status)" 2
clean move_pages "$out"

evacuated=$(vmstat mte_tag_evacuated)
for path in mbind_move migrate_pages; do
	reserved=$(vmstat mte_tag_reserve)
	out=$(mtex $path 2 4096)
	check_eq "$path: every tagged page moved to node 2" "$(field "$out" tagged_on_target)" 1024
	check_eq "$path: no tagged page on a tag node" "$(field "$out" tag_node_pages)" 0
	clean $path "$out"
	check "$path: node 2's blocks were claimed first" \
		[ $(($(vmstat mte_tag_reserve) - reserved)) -ge 32 ]
	check "$path: the blocks go back to data use" wait_for_release "$region" "$baseline"
done
check "the tag node's data was moved out of the blocks claimed" \
	[ $(($(vmstat mte_tag_evacuated) - evacuated)) -gt 0 ]
check "the tag node's data survived every evacuation" hold_finish /tmp/fill
check_eq "no block is miscounted at the end" "$(verify_field miscounted)" 0
check_eq "the verifier is clean at the end" "$(verify_field violations)" 0
done_testing

#!/bin/sh
# A malformed tag-storage binding: one clear message naming the node and the
# rule, the range stays out of memory, boot completes (we are running).
. /lab/lib.sh

sc=$(scenario)
case $sc in
bad-ratio)		node=tag-storage@140000000; rule="1/32 of the tagged-memory size" ;;
bad-blocksize-missing)	node=tag-storage@140000000; rule="block-size is missing or zero" ;;
bad-blocksize-zero)	node=tag-storage@140000000; rule="block-size is missing or zero" ;;
bad-blocksize-page)	node=tag-storage@140000000; rule="block-size is not compatible with the page size" ;;
bad-reg-ranges)		node=tag-storage@140000000; rule="reg must hold exactly one" ;;
bad-inside)		node=tag-storage@140000000; rule="inside the tagged memory it serves" ;;
bad-outside)		node=tag-storage@140000000; rule="outside RAM" ;;
bad-nomap)		node=tag-storage@140000000; rule="no-map is required" ;;
bad-nid)		node=tag-storage@140000000; rule="numa-node-id 0 is in use" ;;
bad-overlap)		node=tag-storage@144000000; rule="overlaps another tag storage region"; keeps=1 ;;
bad-toomany)		node=tag-storage@800000000; rule="more than 8 tag storage regions"; keeps=1 ;;
bad-unaligned)		node=tag-storage@1c4000000; rule="not aligned to the 128 MiB memory block"; keeps=1 ;;
*)			not_ok "unknown scenario '$sc'"; done_testing; exit ;;
esac

msgs=$(dmesg | grep "mte_tag_node: $node:")
diag "$msgs"
check "dmesg names $node and the rule '$rule'" echo "$msgs" | grep -qF "$rule"
check_eq "exactly one message for $node" "$(echo "$msgs" | grep -c .)" 1
check "no splat during boot" sh -c '! dmesg | grep -Eq "WARNING:|BUG:|Oops"'

plugged=$(grep -c "System RAM (mte_tag_node)" /proc/iomem)
if [ "${keeps:-0}" = 1 ]; then
	check_eq "the valid part is still a tag node" "$plugged" 1
	check_eq "and the feature is active" "$(cat /sys/kernel/mm/mte_tag_node/mode)" active
else
	check_eq "nothing is hot-plugged" "$plugged" 0
	check "no tag storage became memory: node 1 has no pages" \
		[ "$(node_kb 1 MemTotal 2>/dev/null || echo 0)" = 0 ]
	check_eq "the feature reports no valid region" "$(cat /sys/kernel/mm/mte_tag_node/mode)" none
fi
if [ "$sc" = bad-unaligned ]; then
	check_eq "the aligned 128 MiB is online" \
		"$(cat /sys/kernel/mm/mte_tag_node/region0/online_range)" 0x1c8000000-0x1cfffffff
	check_eq "the 64 MiB head stays reserved (16384 blocks)" \
		"$(cat /sys/kernel/mm/mte_tag_node/region0/blocks_reserved)" 16384
fi
done_testing

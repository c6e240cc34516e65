#!/bin/sh
# A malformed tag-storage binding: one clear message naming the node and the
# rule, the range stays out of memory, boot completes (we are running).
. /lab/lib.sh

# in_system_ram ADDR: is ADDR inside a "System RAM" range of /proc/iomem?
in_system_ram() {
	local addr=$(( $1 )) range
	for range in $(grep ': System RAM' /proc/iomem | awk '{ print $1 }'); do
		[ "$addr" -ge $(( 0x${range%-*} )) ] && [ "$addr" -le $(( 0x${range#*-} )) ] && return 0
	done
	return 1
}

sc=$(scenario)
tag=0x140000000
case $sc in
bad-ratio)		node=tag-storage@140000000; rule="1/32 of the tagged-memory size" ;;
bad-blocksize-missing)	node=tag-storage@140000000; rule="block-size is missing or zero" ;;
bad-blocksize-zero)	node=tag-storage@140000000; rule="block-size is missing or zero" ;;
bad-blocksize-page)	node=tag-storage@140000000; rule="block-size is not compatible with the page size" ;;
bad-reg-ranges)		node=tag-storage@140000000; rule="reg must hold exactly one" ;;
bad-inside)		node=tag-storage@140000000; rule="inside the tagged memory it serves"; tag=0x100000000 ;;
bad-outside)		node=tag-storage@140000000; rule="outside RAM"; tag=0x200000000 ;;
bad-nomap)		node=tag-storage@140000000; rule="no-map is required" ;;
bad-nid)		node=tag-storage@140000000; rule="numa-node-id 0 is in use" ;;
bad-overlap)		node=tag-storage-copy@140000000; rule="overlaps another tag storage region"; keeps=1 ;;
bad-toomany)		node=tag-storage@800000000; rule="more than 8 tag storage regions"; keeps=1 ;;
bad-unaligned)		node=tag-storage@1c4000000; rule="not aligned to the 128 MiB memory block"; keeps=1; tag=0x1c4000000 ;;
*)			not_ok "unknown scenario '$sc'"; done_testing; exit ;;
esac

# The region's summary line, when part of it is used, is not a complaint.
msgs=$(dmesg | grep "mte_tag_node: $node:" | grep -v ": node [0-9]*, tag ")
diag "$msgs"
check_match "dmesg names $node and the rule '$rule'" "$msgs" "$rule"
check_eq "exactly one message for $node" "$(echo "$msgs" | grep -c .)" 1
check "no splat during boot" sh -c '! dmesg | grep -Eq "WARNING:|BUG:|Oops"'

plugged=$(grep -c "System RAM (mte_tag_node)" /proc/iomem)
if [ "${keeps:-0}" = 1 ]; then
	check_eq "the valid part is still a tag node" "$plugged" 1
	check_eq "and the feature is active" "$(cat /sys/kernel/mm/mte_tag_node/mode)" active
else
	check_eq "nothing is hot-plugged" "$plugged" 0
	if [ "$sc" = bad-nomap ]; then
		# Without no-map the range is memblock-reserved: listed as System
		# RAM, but none of its pages is ever handed out.
		check_eq "the reserved tag range adds no page to node 1" "$(node_kb 1 MemTotal)" 0
	elif in_system_ram "$tag"; then
		not_ok "the tag range at $tag became System RAM"
	else
		ok "the tag range at $tag did not become System RAM"
	fi
	check_eq "the feature reports no valid region" "$(cat /sys/kernel/mm/mte_tag_node/mode)" none
fi
if [ "$sc" = bad-unaligned ]; then
	check_eq "the aligned 128 MiB is online" \
		"$(cat /sys/kernel/mm/mte_tag_node/region0/online_range)" 0x1c8000000-0x1cfffffff
	check_eq "the 64 MiB head stays reserved (16384 blocks)" \
		"$(cat /sys/kernel/mm/mte_tag_node/region0/blocks_reserved)" 16384
	if in_system_ram "$tag"; then
		not_ok "the unaligned head at $tag became System RAM"
	else
		ok "the unaligned head at $tag did not become System RAM"
	fi
fi
done_testing

#!/bin/sh
# The tag node as the kernel presents it: node shape, tier, demotion target,
# /proc/iomem, zones, sysfs and debugfs.
. /lab/lib.sh

top=/sys/kernel/mm/mte_tag_node
nregions=$(ls -d $top/region* 2>/dev/null | wc -l)
check_eq "feature is active" "$(cat $top/mode 2>/dev/null)" active
check "at least one region" [ "$nregions" -ge 1 ]

# read_block_counts: the block counts of region $dir and the T of its map.
read_block_counts() {
	data=$(cat "$dir/blocks_data")
	tags=$(cat "$dir/blocks_tags")
	reserved=$(cat "$dir/blocks_reserved")
	evac=$(cat "$dir/blocks_evacuating")
	map_tags=$(grep -v '^#' "$map" | cut -c10- | tr -cd T | wc -c)
	counts="$data $tags $reserved $evac $map_tags"
}

for dir in $top/region*; do
	[ -d "$dir" ] || continue
	r=$(basename "$dir")
	nid=$(cat "$dir/node")
	tag=$(cat "$dir/tag_range")
	tag_start=${tag%-*}
	tag_end=${tag#*-}
	total=$(cat "$dir/blocks_total")
	map=/sys/kernel/debug/mte_tag_node/$r/block_map
	# Blocks reserved at boot (KUnit) leave tag use while the files are
	# read one by one: read them again until two reads agree.
	for i in 1 2 3 4 5; do
		read_block_counts
		[ "$counts" = "$(read_block_counts; echo "$counts")" ] && break
		sleep 1
	done

	check_eq "$r: node $nid has no CPUs" "$(cat /sys/devices/system/node/node$nid/cpulist)" ""
	size_mb=$(numactl -H | awk -v n="$nid" '$1 == "node" && $2 == n && $3 == "size:" { print $4 }')
	check "$r: numactl -H shows node $nid at 120..128 MB (got ${size_mb:-none})" \
		test "${size_mb:-0}" -ge 120 -a "${size_mb:-0}" -le 128
	check "$r: block counts add up ($data + $tags + $evac + $reserved = $total)" \
		[ $((data + tags + evac + reserved)) -eq "$total" ]
	check_eq "$r: 4 KiB blocks" "$(cat "$dir/block_size")" 4096
	check_eq "$r: one block per tag page" "$total" $(( (tag_end - tag_start + 1) / 4096 ))
	check_eq "$r: block map shows the blocks in tag use" "$map_tags" "$tags"
	check "$r: /proc/iomem has the driver-managed range" \
		grep -q "^ *$(printf %x "$tag_start")-$(printf %x "$tag_end") : System RAM (mte_tag_node)" /proc/iomem
	check "$r: only ZONE_MOVABLE is populated" \
		awk -v n="$nid" '
			$1 == "Node" { cur = ($2 == n ","); zone = $4 }
			cur && $1 == "present" && $2 > 0 && zone != "Movable" { bad = 1 }
			END { exit bad }' /proc/zoneinfo
	check_match "$r: dmesg has the summary line" "$(dmesg)" \
		"mte_tag_node: $(cat "$dir/name"): node $nid, tag"

	mytier=""; dramtier=""
	for t in /sys/devices/virtual/memory_tiering/memory_tier*; do
		id=${t##*memory_tier}
		nodes=$(cat "$t/nodelist")
		case ",$(echo "$nodes" | tr - ,)," in *",$nid,"*) mytier=$id ;; esac
		case ",$(echo "$nodes" | tr - ,)," in *",0,"*) dramtier=$id ;; esac
	done
	check "$r: node $nid is in a tier below DRAM (tier ${mytier:-?} vs ${dramtier:-?})" \
		test "${mytier:-0}" -gt "${dramtier:-99}"
done

check "the zero page's block is in tag use" [ "$(cat $top/region0/blocks_tags)" -ge 1 ]
check_match "dmesg names a tag node as node 0's demotion target" "$(dmesg)" \
	"Demotion targets for Node 0: preferred: [0-9]"
# KUnit reserves and releases blocks of its own before this runs.
check_eq "events: reservations less releases are the blocks held at boot" \
	"$(($(vmstat mte_tag_reserve) - $(vmstat mte_tag_release)))" \
	"$(cat $top/region*/blocks_tags | awk '{ s += $1 } END { print s }')"
done_testing

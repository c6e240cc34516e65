#!/bin/sh
# Strict exclusion: no tagged page on a tag node, under every mempolicy mode
# and folio size, and on every migration path. Each case is also one the
# kernel would get wrong without its hook: the policy names the tag node, or
# node 0 is full, or a control shows the same path moving untagged pages.
# The kernel's verifier must find no violation in any case.
. /lab/lib.sh

nid=$(cat /sys/kernel/mm/mte_tag_node/region0/node)
thp=/sys/kernel/mm/transparent_hugepage

# A path that never completes (a tag node page denied a tagged mapping
# again on every access) fails its case instead of stalling the plan.
mtex() { timeout $((180 * $(timeout_scale))) /lab/bin/mtex "$@"; }

# place MODE NODES KB SIZE: a tagged allocation must stay off the tag node.
place() {
	local t0=$(cut -d' ' -f1 /proc/uptime)
	out=$(mtex place "$1" "$2" "$3" "$4")
	diag "$1 $4 ($3 KiB) took $(awk -v t0="$t0" '{ print $1 - t0 }' /proc/uptime) s"
	check_eq "$1 $4: no tagged page on the tag node" "$(field "$out" tag_node_pages)" 0
	clean "$1 $4" "$out"
}

# Policies that name the tag node. preferred_many names only the tag node:
# its first pass would take it. The others mix it with node 0.
for size in small thp mthp; do
	[ $size = mthp ] && echo always > $thp/hugepages-64kB/enabled
	place preferred "$nid" 8192 $size
	place bind "$nid" 8192 $size
	place preferred_many "$nid" 8192 $size
	place interleave "0,$nid" 8192 $size
	place weighted_interleave "0,$nid" 8192 $size
	[ $size = mthp ] && echo never > $thp/hugepages-64kB/enabled
done

# Default and local only reach the tag node as a fallback: fill node 0 with
# untagged data first; reclaim demotes that data to make room, as it should.
# The sizes come from the watermarks. The fill stops 16 MiB above node 0's
# high watermark, so kswapd does not demote it into the tag node before the
# test starts. Each placement takes node 0 below its low watermark, where
# the allocator falls back to other nodes, by as much as the tag node has
# room for what reclaim then demotes: from node 0's low watermark up to its
# high one, and the placement's excess. Asking for more than both nodes
# hold leaves reclaim demoting into a full tag node with no swap, which
# under the debug kernel scans for many minutes before the OOM killer.
echo 1 > /sys/kernel/mm/numa/demotion_enabled
free_mb=$(( ($(node_kb 0 MemFree) - $(node_wmark_kb 0 high)) / 1024 ))
hold_start $((free_mb - 16)) /tmp/fill numactl --membind=0 --
above_low=$(( $(node_kb 0 MemFree) - $(node_wmark_kb 0 low) ))
refill=$(( $(node_wmark_kb 0 high) - $(node_wmark_kb 0 low) ))
room=$(( $(node_kb "$nid" MemFree) - $(node_wmark_kb "$nid" high) - refill - 8192 ))
excess=$(( room < 16384 ? room : 16384 ))
place_kb=$(( (above_low + excess) / 2048 * 2048 ))
diag "after the fill: node 0 $above_low kB above its low watermark;" \
	"room for $room kB more on the tag node; placing $place_kb kB"
check "the placements go below node 0's low watermark by 4 MiB or more" \
	[ $((place_kb - above_low)) -ge 4096 ]
demoted() { echo $(($(vmstat pgdemote_kswapd) + $(vmstat pgdemote_direct))); }
demoted_before=$(demoted)
for size in small thp; do
	place default "" $place_kb $size
	place local "" $place_kb $size
done
diag "pages demoted during the placements: $(($(demoted) - demoted_before))"
check "reclaim demoted node 0's data to make room" [ "$(demoted)" -gt "$demoted_before" ]
check "the fill survived" hold_finish /tmp/fill

# move_pages(): -EPERM for the tagged page; the untagged one moves.
out=$(mtex move_pages "$nid")
check_eq "move_pages: a tagged page gets -EPERM" "$(field "$out" tagged_status)" -1
check_eq "move_pages: an untagged page moves" "$(field "$out" untagged_status)" "$nid"
clean move_pages "$out"

# mbind(MPOL_MF_MOVE) and migrate_pages() onto the tag node.
for path in mbind_move migrate_pages; do
	out=$(mtex $path "$nid" 4096)
	check_eq "$path: no tagged page moved to the tag node" "$(field "$out" tag_node_pages)" 0
	check_eq "$path: every untagged page moved" "$(field "$out" untagged_on_tag_node)" 1024
	clean $path "$out"
done

# Pages that become tagged where they sit move away on first access.
for path in mprotect memfd; do
	out=$(mtex $path "$nid" 4096)
	check_eq "$path: the untagged pages started on the tag node" \
		"$(field "$out" before_on_tag_node)" 1024
	check_eq "$path: after PROT_MTE no page is on the tag node" \
		"$(field "$out" tag_node_pages)" 0
	clean $path "$out"
done

# COW after fork, in a range whose policy names only the tag node.
out=$(mtex cow "$nid" 4096)
check_eq "cow: the parent's tagged pages fell back off the tag node" \
	"$(field "$out" parent_tag_node_pages)" 0
check_eq "cow: the child's copies are off the tag node" "$(field "$out" tag_node_pages)" 0
check_eq "cow: the child finished" "$(field "$out" child_failed)" ""
check_eq "cow: the parent's data survived" "$(field "$out" parent_bad_data)" 0
clean cow "$out"

# MADV_COLLAPSE of a tagged range: the new huge page follows its sources.
out=$(mtex collapse 4096)
diag "MADV_COLLAPSE returned $(field "$out" collapse_status)"
check_eq "collapse: no tagged page on the tag node" "$(field "$out" tag_node_pages)" 0
clean collapse "$out"

# A collapse whose sources sit mostly on the tag node, untagged, goes there:
# the tagged sources' tags must be held, not written into tag storage.
khp=$thp/khugepaged
echo 100 > $khp/scan_sleep_millisecs
echo 100 > $khp/alloc_sleep_millisecs
echo 4096 > $khp/pages_to_scan
for how in madvise khugepaged; do
	out=$(mtex collapse_from "$nid" $how)
	diag "collapse_from $how: $(echo $out)"
	check_eq "collapse_from $how: the untagged sources sat on the tag node" \
		"$(field "$out" untagged_on_tag_node)" 320
	check_eq "collapse_from $how: the touched sources moved off" \
		"$(field "$out" tagged_on_tag_node)" 0
	check_eq "collapse_from $how: the range was collapsed" "$(field "$out" huge_kb)" 2048
	check_eq "collapse_from $how: no tag node page got tags" \
		"$(field "$out" tagged_tag_node_pages_after_collapse)" 0
	check_eq "collapse_from $how: after access no page is on the tag node" \
		"$(field "$out" tag_node_pages)" 0
	clean "collapse_from $how" "$out"
done

# NUMA balancing, plain and in memory-tiering mode: it only moves memory
# towards a CPU's node, and memory made tagged on the tag node moves off.
for mode in 1 2; do
	echo $mode > /proc/sys/kernel/numa_balancing
	out=$(mtex numab "$nid" 4096 8)
	echo 0 > /proc/sys/kernel/numa_balancing
	diag "numa_balancing=$mode: $(echo $out)"
	check "numab $mode: the scanner made hinting faults" \
		[ "$(field "$out" hint_faults)" -gt 0 ]
	check "numab $mode: untagged memory moved off the tag node (control)" \
		[ "$(field "$out" untagged_moved_off)" -gt 0 ]
	check_eq "numab $mode: memory made tagged is off the tag node" \
		"$(field "$out" made_tagged_on_tag_node)" 0
	check_eq "numab $mode: memory made tagged kept its data" \
		"$(field "$out" made_tagged_bad_data)" 0
	check_eq "numab $mode: memory made tagged takes tags" \
		"$(field "$out" made_tagged_bad_tags)" 0
	check_eq "numab $mode: no tagged page on the tag node" "$(field "$out" tag_node_pages)" 0
	clean "numab $mode" "$out"
done

# KSM merges the untagged copies, on the tag node too, but never a tagged
# page, and memory made tagged there still moves off.
ksm=/sys/kernel/mm/ksm
echo 1000 > $ksm/pages_to_scan
echo 20 > $ksm/sleep_millisecs
echo 1 > $ksm/run
out=$(mtex ksm "$nid" 4096)
echo 2 > $ksm/run
diag "ksm: $(echo $out)"
check "ksm: ksmd finished three scans" [ "$(field "$out" ksm_scans_ms)" -ge 0 ]
check "ksm: pages were merged (control)" [ "$(field "$out" pages_sharing)" -gt 0 ]
check_eq "ksm: no tag node page got tags" "$(field "$out" tagged_tag_node_pages_after_merge)" 0
check_eq "ksm: memory made tagged kept its data" "$(field "$out" made_tagged_bad_data)" 0
check_eq "ksm: memory made tagged takes tags" "$(field "$out" made_tagged_bad_tags)" 0
check_eq "ksm: memory made tagged is off the tag node" \
	"$(field "$out" made_tagged_on_tag_node)" 0
check_eq "ksm: no tagged page on the tag node" "$(field "$out" tag_node_pages)" 0
clean ksm "$out"

# Swap-in through the swap cache, read ahead under a policy naming the tag
# node: pages read into the tag node hold their tags until they move off.
echo 256M > /sys/block/zram0/disksize
mkswap /dev/zram0 > /dev/null
swapon /dev/zram0
out=$(mtex swapin "$nid" 4096)
swapoff /dev/zram0
diag "swapin: $(echo $out)"
check "swapin: the pages went to swap" [ "$(field "$out" swapped_out)" -gt 0 ]
check "swapin: pages read into the tag node held their tags" [ "$(field "$out" held)" -gt 0 ]
check_eq "swapin: no tagged page on the tag node" "$(field "$out" tag_node_pages)" 0
clean swapin "$out"

# Demotion: reclaim in a cgroup demotes the untagged pages, never the tagged.
cg=/sys/fs/cgroup/exclusion
echo +memory > /sys/fs/cgroup/cgroup.subtree_control
mkdir -p $cg
bg_start /tmp/dem sh -c "echo \$\$ > $cg/cgroup.procs; exec numactl --membind=0 mtex hold 32768 /tmp/dem"
echo 64M > $cg/memory.reclaim 2>/dev/null
bg_finish /tmp/dem
out=$(cat /tmp/dem.out)
check_eq "demotion: no tagged page demoted to the tag node" "$(field "$out" tag_node_pages)" 0
check "demotion: untagged pages were demoted (control)" \
	[ "$(field "$out" untagged_on_tag_node)" -gt 0 ]
clean demotion "$out"
check_eq "the verifier is clean after the whole suite" \
	"$(verify_field violations)" 0
done_testing

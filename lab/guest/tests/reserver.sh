#!/bin/sh
# The reserver: tagged pages take their tag blocks out of data use first,
# evacuating whatever the tag node held there, and the blocks go back to
# data use once their last tagged page is gone. Runs with the tag node
# full of checksummed untagged data, so every reservation has to evacuate,
# and with the hardware model on, so data left in a tag block is corrupted.
. /lab/lib.sh

nid=$(cat /sys/kernel/mm/mte_tag_node/region0/node)
region=/sys/kernel/mm/mte_tag_node/region0
dbg=/sys/kernel/debug/mte_tag_node
check_eq "the hardware model is on" "$(cat $dbg/hw_model)" Y
echo 100 > /sys/kernel/mm/mte_tag_node/release_delay_ms
check "a bad release delay is refused" \
	sh -c '! echo 60001 > /sys/kernel/mm/mte_tag_node/release_delay_ms 2>/dev/null'
check_eq "the release delay kept its value" \
	"$(cat /sys/kernel/mm/mte_tag_node/release_delay_ms)" 100
baseline=$(blocks_held $region)
diag "blocks in tag use at rest: $baseline (the zero page's)"
check "the zero page's block is in tag use" [ "$baseline" -ge 1 ]

# place SIZE [KB]: KB (default 64 MiB) of tagged memory; 64 MiB needs 512
# blocks of 4 KiB tags.
place() {
	local reserved=$(vmstat mte_tag_reserve) out
	out=$(mtex place default "" "${2:-65536}" "$1")
	clean "$1" "$out"
	check "$1: at least 512 blocks reserved" \
		[ $(($(vmstat mte_tag_reserve) - reserved)) -ge 512 ]
	check "$1: the blocks go back to data use after the memory is freed" \
		wait_for_release $region "$baseline"
}
trace=/sys/kernel/tracing
# kb_needing_blocks_over KB: how much tagged memory needs more than KB of
# tag blocks (a block serves 32 times its size), at least 64 MiB. Where
# the tag node has only KB that is not what a check wants (free, or not
# in huge pages), some blocks such memory needs must be the rest: which
# blocks a placement needs follows from where the allocator puts its data,
# and the blocks the last placement used, just released, are often the
# very pages a fill leaves free.
kb_needing_blocks_over() {
	local kb=$(((($1 + 1024) * 32 + 2047) / 2048 * 2048))
	echo $((kb > 65536 ? kb : 65536))
}
# count_traced_runs: from the trace, set moved (runs that held data,
# evacuated by migration alone) and isolated (runs isolated).
count_traced_runs() {
	moved=$(grep ' mte_tag_reserve: ' $trace/trace | grep -v ' evacuated=0 ' |
		grep -c ' isolated=0')
	isolated=$(grep ' mte_tag_reserve: ' $trace/trace | grep -c ' isolated=1')
}

# Data demoted to the tag node keeps its huge pages. A run of blocks
# inside one is evacuated by moving the huge page whole, as
# alloc_contig_range() would, but without isolating the run; when runs
# are isolated first, the huge page a run starts inside moves whole too.
# First in the plan: on a fresh node, the blocks the placement needs lie
# in huge pages; after the cases below, in the small pages ending a fill.
thp=/sys/kernel/mm/transparent_hugepage
# place_in_huge_pages NAME: small pages placed while the tag node is full
# of huge pages, enough that some of their blocks lie in huge pages. Sets thp_moved, moved (runs evacuated by migration alone)
# and isolated (runs isolated).
place_in_huge_pages() {
	echo always > $thp/enabled
	fill_tag_node "$nid" /tmp/thpfill
	echo madvise > $thp/enabled
	diag "$1: tag node huge pages after the fill: $(node_kb "$nid" AnonHugePages) kB"
	check "$1: the tag node holds huge pages" \
		[ "$(node_kb "$nid" AnonHugePages)" -ge 65536 ]
	thp_moved=$(vmstat thp_migration_success)
	echo 1 > $trace/events/mte_tag_node/enable
	echo > $trace/trace
	place small "$(kb_needing_blocks_over \
		$(($(node_kb "$nid" MemTotal) - $(node_kb "$nid" AnonHugePages))))"
	echo 0 > $trace/events/mte_tag_node/enable
	thp_moved=$(($(vmstat thp_migration_success) - thp_moved))
	count_traced_runs
	diag "$1: huge pages moved: $thp_moved; runs evacuated by migration alone:" \
		"$moved; isolated: $isolated"
	check "$1: huge pages of the tag node were moved whole" [ "$thp_moved" -gt 0 ]
	check "$1: the huge pages' data survived" hold_finish /tmp/thpfill
}
check_counters thp_migration_success
echo 1 > $dbg/inject_isolate
place_in_huge_pages isolating
echo 0 > $dbg/inject_isolate
check "isolating: the runs were isolated" [ "$isolated" -gt 0 ]
place_in_huge_pages migrating
check "migrating: the runs were evacuated by migration alone" [ "$moved" -gt $((4 * isolated)) ]

# Reservations and releases are traced, with the wait each one cost.
echo 1 > $trace/events/mte_tag_node/enable
echo > $trace/trace

# Fill the tag node: every block a tagged page needs holds data.
fill_tag_node "$nid" /tmp/fill
diag "tag node free after the fill: $(node_kb "$nid" MemFree) kB"

# The fill leaves a few MiB free, which may be where some blocks are
# needed: each placement needs more blocks than that.
evacuated=$(vmstat mte_tag_evacuated)
place small "$(kb_needing_blocks_over "$(node_kb "$nid" MemFree)")"
place thp "$(kb_needing_blocks_over "$(node_kb "$nid" MemFree)")"
check "tag node pages were evacuated" [ $(($(vmstat mte_tag_evacuated) - evacuated)) -gt 0 ]

# trace_field FIELD EVENT: the values of FIELD in the traced EVENTs.
trace_field() {
	sed -n "s/.* $2: .* $1=\([0-9-]*\).*/\1/p" $trace/trace
}
events=$(trace_field latency_ns mte_tag_reserve | wc -l)
diag "$events reservations traced; latency_ns of the first: $(trace_field latency_ns mte_tag_reserve | head -3 | tr '\n' ' ')"
check "reservations are traced" [ "$events" -gt 0 ]
check "each traced reservation took time" \
	[ "$(trace_field latency_ns mte_tag_reserve | awk '$1 <= 0' | wc -l)" = 0 ]
check "traced reservations moved the tag node's data" \
	[ "$(trace_field evacuated mte_tag_reserve | awk '{ n += $1 } END { print n + 0 }')" -gt 0 ]
check "releases are traced" [ "$(trace_field block mte_tag_release | wc -l)" -gt 0 ]
# Runs holding data are mostly taken by migrating their pages; only runs
# that migration could not free are isolated by alloc_contig_range().
count_traced_runs
diag "runs evacuated by migration alone: $moved; isolated: $isolated"
check "runs were evacuated by migration alone" [ "$moved" -gt 0 ]
check "most runs were evacuated by migration alone" [ "$moved" -gt $((4 * isolated)) ]
echo 0 > $trace/events/mte_tag_node/enable

# A task killed while its faults wait for evacuations exits at once, and
# the blocks it had taken go back (R19).
uptime_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
wait_for_release $region "$baseline"
reserved=$(vmstat mte_tag_reserve)
mtex place default "" 262144 small > /dev/null 2>&1 &
toucher=$!
for i in $(seq 300); do
	[ $(($(vmstat mte_tag_reserve) - reserved)) -ge 64 ] && break
	sleep 0.1
done
killed_at=$(uptime_ms)
kill -9 $toucher
wait $toucher
status=$?
diag "killed after $(($(vmstat mte_tag_reserve) - reserved)) reservations; it took $(($(uptime_ms) - killed_at)) ms to exit"
check_eq "the toucher died of SIGKILL, mid-run" "$status" 137
check "the killed toucher exited within 5 s" [ $(($(uptime_ms) - killed_at)) -lt 5000 ]
check "its blocks went back to data use" wait_for_release $region "$baseline"
check "no OOM report" sh -c '! dmesg | grep -q "Out of memory\|invoked oom-killer"'
check_eq "no block is miscounted after the kill" "$(verify_field miscounted)" 0

# Pages that become tagged after they were mapped claim their blocks on
# first access, through the hinting fault: mprotect(PROT_MTE) and shmem.
for path in mprotect memfd; do
	wait_for_release $region "$baseline"
	reserved=$(vmstat mte_tag_reserve)
	out=$(mtex $path 0 4096)
	clean "$path" "$out"
	check "$path: blocks reserved on first access" \
		[ $(($(vmstat mte_tag_reserve) - reserved)) -ge 32 ]
done

# COW copies tags into a new page, collapse into a new huge page.
out=$(mtex cow 0 4096)
check_eq "cow: the child finished" "$(field "$out" child_failed)" ""
check_eq "cow: the parent's data survived" "$(field "$out" parent_bad_data)" 0
clean cow "$out"
out=$(mtex collapse 4096)
diag "MADV_COLLAPSE returned $(field "$out" collapse_status)"
clean collapse "$out"

# COW while reservations fail (injected): copies whose tag storage cannot
# be claimed get their tags held until they are mapped, not dropped.
check_counters mte_tag_held mte_tag_dropped
held=$(vmstat mte_tag_held)
out=$(mtex cowheld 1024 32)
diag "cowheld: $(($(vmstat mte_tag_held) - held)) copies had their tags held"
check_eq "cowheld: the child's data and tags survived" "$(field "$out" child_bad)" 0
check_eq "cowheld: every injected failure was used" "$(field "$out" injected_left)" 0
check "cowheld: some copies had their tags held" [ $(($(vmstat mte_tag_held) - held)) -ge 1 ]
check_eq "cowheld: no tags were dropped" "$(vmstat mte_tag_dropped)" 0
clean cowheld "$out"

# Compaction migrates tagged pages inside node 0: destinations are reserved.
bg_start /tmp/cmp numactl --membind=0 mtex hold 16384 /tmp/cmp
migrated=$(vmstat pgmigrate_success)
echo 1 > /proc/sys/vm/compact_memory
diag "compaction migrated $(($(vmstat pgmigrate_success) - migrated)) pages"
bg_finish /tmp/cmp
clean compaction "$(cat /tmp/cmp.out)"

check "the tag node's data survived every evacuation" hold_finish /tmp/fill

# pin_placement CASE KB MIN: "mtex CASE" with KB on node 0, a page pinned
# in each tag block they need, until MIN of the pages need a pinned block.
# Where the allocator puts the pages decides how many of their blocks hold
# a page to pin (blocks in tag use, or holding other data, do not): a
# placement short of MIN is tried again, up to three times, and its data
# and tags checked. Sets out, pinned and relocated.
pin_placement() {
	local attempt
	for attempt in 1 2 3; do
		wait_for_release $region "$baseline"
		relocated=$(vmstat mte_tag_relocated)
		out=$(mtex "$1" 0 "$nid" "$2" $(($(node_kb "$nid" MemFree) - 1024)))
		pinned=$(field "$out" pages_in_pinned_blocks)
		diag "$1, attempt $attempt: $pinned of $(($2 / 4)) pages need a pinned block"
		[ "${pinned:-0}" -ge "$3" ] && return
		clean "$1, attempt $attempt" "$out"
	done
}

# Every block needed holds a pinned page of the tag node: the pages that
# need them move to other memory of node 0 whose blocks can be reserved.
pin_placement pinned 1024 128
diag "pinned: $(field "$out" moved_pages) moved;" \
	"$(($(vmstat mte_tag_relocated) - relocated)) relocations"
check "pinned: most pages need a pinned block" [ "$pinned" -ge 128 ]
clean pinned "$out"
check_eq "pinned: no tagged page on the tag node" "$(field "$out" tag_node_pages)" 0
check "pinned: every page in a pinned block moved" [ "$(field "$out" moved_pages)" -ge "$pinned" ]
check "pinned: the moves are counted as relocations" \
	[ $(($(vmstat mte_tag_relocated) - relocated)) -ge "$pinned" ]
check_eq "pinned: the pages stayed on node 0" "$(field "$out" on_node)" 256
check_eq "pinned: the pinned data survived" "$(field "$out" pinned_bad_data)" 0

# The pages are pinned too, so neither they nor their blocks can move: the
# access must wait (in MTE_TAG_BUSY_MS steps), not spin, until the pin goes.
# The 16 pages often share one block.
pin_placement stuck 64 1
diag "stuck: $(field "$out" stuck_cpu_ms) ms of CPU in 2 s;" \
	"done $(field "$out" done_ms_after_drain) ms after the pin went"
check "stuck: a page needs a pinned block" [ "$pinned" -ge 1 ]
check_eq "stuck: the access waited for the pin" "$(field "$out" done_while_pinned)" 0
check "stuck: it slept, under 300 ms of CPU in 2 s" [ "$(field "$out" stuck_cpu_ms)" -lt 300 ]
check "stuck: it finished within 5 s of the pin going" \
	[ "$(field "$out" done_ms_after_drain)" -lt 5000 ]
clean stuck "$out"
check_eq "stuck: the pages stayed on node 0" "$(field "$out" on_node)" 16
check_eq "stuck: the pinned data survived" "$(field "$out" pinned_bad_data)" 0
check "the blocks all went back to data use" wait_for_release $region "$baseline"
check_eq "the verifier is clean at the end" "$(verify_field violations)" 0
check_eq "no block is miscounted at the end" "$(verify_field miscounted)" 0
done_testing

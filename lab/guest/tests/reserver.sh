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
field() { printf '%s\n' "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
verify_field() { awk -v k="$1" '$1 == k { print $2 }' $dbg/verify; }

clean() {
	check_eq "$1: contents preserved" "$(field "$2" bad_data)" 0
	check_eq "$1: tags work" "$(field "$2" bad_tags)" 0
	check_eq "$1: the verifier found no violation while it was mapped" \
		"$(field "$2" verify_violations)" 0
}

# wait_for_release BASELINE: blocks in tag use fall back to BASELINE.
wait_for_release() {
	local i
	for i in $(seq 50); do
		[ "$(cat $region/blocks_tags)" -le "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

check_eq "the hardware model is on" "$(cat $dbg/hw_model)" Y
echo 100 > /sys/kernel/mm/mte_tag_node/release_delay_ms
check "a bad release delay is refused" \
	sh -c '! echo 60001 > /sys/kernel/mm/mte_tag_node/release_delay_ms 2>/dev/null'
check_eq "the release delay kept its value" \
	"$(cat /sys/kernel/mm/mte_tag_node/release_delay_ms)" 100
baseline=$(cat $region/blocks_tags)
diag "blocks in tag use at rest: $baseline (the zero page's)"
check "the zero page's block is in tag use" [ "$baseline" -ge 1 ]

# Fill the tag node: every block a tagged page needs holds data.
free_mb=$(( $(node_kb "$nid" MemFree) / 1024 ))
hold_start $((free_mb - 8)) /tmp/fill numactl --membind="$nid" --
diag "tag node free after the fill: $(node_kb "$nid" MemFree) kB"

# place SIZE: 64 MiB of tagged memory needs 512 blocks of 4 KiB tags.
place() {
	local reserved=$(vmstat mte_tag_reserve) evacuated=$(vmstat mte_tag_evacuated) out
	out=$(mtex place default "" 65536 "$1")
	clean "$1" "$out"
	check "$1: at least 512 blocks reserved" \
		[ $(($(vmstat mte_tag_reserve) - reserved)) -ge 512 ]
	check "$1: tag node pages were evacuated" \
		[ $(($(vmstat mte_tag_evacuated) - evacuated)) -gt 0 ]
	check "$1: the blocks go back to data use after the memory is freed" \
		wait_for_release "$baseline"
}
place small
place thp

# Pages that become tagged after they were mapped claim their blocks on
# first access, through the hinting fault: mprotect(PROT_MTE) and shmem.
for path in mprotect memfd; do
	wait_for_release "$baseline"
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

# Compaction migrates tagged pages inside node 0: destinations are reserved.
bg_start /tmp/cmp numactl --membind=0 mtex hold 16384 /tmp/cmp
migrated=$(vmstat pgmigrate_success)
echo 1 > /proc/sys/vm/compact_memory
diag "compaction migrated $(($(vmstat pgmigrate_success) - migrated)) pages"
bg_finish /tmp/cmp
clean compaction "$(cat /tmp/cmp.out)"

check "the tag node's data survived every evacuation" hold_finish /tmp/fill
check "the blocks all went back to data use" wait_for_release "$baseline"
check_eq "the verifier is clean at the end" "$(verify_field violations)" 0
check_eq "no block is miscounted at the end" "$(verify_field miscounted)" 0
done_testing

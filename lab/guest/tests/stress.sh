#!/bin/sh
# Stress: threads allocate, tag, verify, free, mprotect, fork and swap out
# (zram, MADV_PAGEOUT) PROT_MTE memory at random (tools/mte-numa/mix.c),
# with the tag node full of checksummed untagged data and the hardware
# model on, for lab.stress_seconds= (default 45). Then: no checksum error,
# no tag error or unexpected tag fault, the fill intact, the verifier clean,
# the blocks back at rest, and the reserver did work meanwhile.
#
# Forks share swap entries, so paged-out objects come back through the
# swap cache as well as the zram fast path; copies and swap-ins whose tag
# storage cannot be claimed in time get their tags held (mte_tag_held),
# which the counters and the kernel log must show were never dropped.
. /lab/lib.sh

nid=$(cat /sys/kernel/mm/mte_tag_node/region0/node)
region=/sys/kernel/mm/mte_tag_node/region0
dbg=/sys/kernel/debug/mte_tag_node
trace=/sys/kernel/tracing/instances/stress
seconds=$(sed -n 's/.*lab\.stress_seconds=\([0-9]*\).*/\1/p' /proc/cmdline)
seconds=${seconds:-45}

echo Y > $dbg/hw_model
check_eq "the hardware model is on" "$(cat $dbg/hw_model)" Y
# Short, so that blocks come and go often during the run.
echo 100 > /sys/kernel/mm/mte_tag_node/release_delay_ms
wait_for_release $region 1
baseline=$(blocks_held $region)
diag "blocks in tag use at rest: $baseline"

# Swap to zram (built in: zram0 exists).
echo 1G > /sys/block/zram0/disksize
mkswap /dev/zram0 > /dev/null
swapon /dev/zram0
check "zram swap is on" grep -q zram0 /proc/swaps

# Fill the tag node with checksummed data: every reservation evacuates.
fill_tag_node "$nid" /tmp/fill
diag "tag node free after the fill: $(node_kb "$nid" MemFree) kB"

# Reservation latencies, from the tracepoint, in a tracing instance.
[ -d /sys/kernel/tracing/instances ] || mount -t tracefs nodev /sys/kernel/tracing
mkdir -p $trace
echo 8192 > $trace/buffer_size_kb
echo 1 > $trace/events/mte_tag_node/mte_tag_reserve/enable

check_counters mte_tag_reserve mte_tag_reserve_fail mte_tag_evacuated mte_tag_release \
	mte_tag_held mte_tag_dropped
reserved=$(vmstat mte_tag_reserve)
failed=$(vmstat mte_tag_reserve_fail)
evacuated=$(vmstat mte_tag_evacuated)
released=$(vmstat mte_tag_release)
swapped_in=$(vmstat pswpin)
held=$(vmstat mte_tag_held)
dropped=$(vmstat mte_tag_dropped)
diag "stress for $seconds s: 4 threads, MADV_PAGEOUT to zram, untagged objects preferring node $nid"
stress --seconds "$seconds" --threads 4 --pageout --tag-node "$nid" > /tmp/stress.out 2>&1
rc=$?
echo 0 > $trace/events/mte_tag_node/mte_tag_reserve/enable
out=$(cat /tmp/stress.out)
sed 's/^/# stress: /' /tmp/stress.out
check_eq "the stress program exits 0" "$rc" 0
check "it ran operations" [ "$(field "$out" ops)" -gt 0 ]
for k in checksum_errors tag_errors tag_faults child_failures syscall_failures; do
	check_eq "no $k" "$(field "$out" $k)" 0
done
check "it forked" [ "$(field "$out" ops_fork)" -gt 0 ]
check "it made untagged memory tagged" [ "$(field "$out" ops_mprotect)" -gt 0 ]
check "pages went to zram" [ "$(field "$out" paged_out_pages)" -gt 0 ]
check "paged-out objects were verified after swap-in" \
	[ "$(field "$out" swapin_verifies)" -gt 0 ]
check "pages were swapped in" [ $(($(vmstat pswpin) - swapped_in)) -gt 0 ]
check "blocks were reserved" [ $(($(vmstat mte_tag_reserve) - reserved)) -gt 0 ]
check "tag node pages were evacuated" [ $(($(vmstat mte_tag_evacuated) - evacuated)) -gt 0 ]
check "blocks were released during the run" [ $(($(vmstat mte_tag_release) - released)) -gt 0 ]
diag "reserved $(($(vmstat mte_tag_reserve) - reserved)) blocks, evacuated $(($(vmstat mte_tag_evacuated) - evacuated)) pages, released $(($(vmstat mte_tag_release) - released)), swapped in $(($(vmstat pswpin) - swapped_in)) pages"

# Latency: p50, p99, max of the reservations that took the lock.
sed -n 's/.*mte_tag_reserve: .*latency_ns=\([0-9]*\).*/\1/p' $trace/trace | sort -n > /tmp/lat
n=$(wc -l < /tmp/lat)
pct() { [ "$n" -gt 0 ] && sed -n "$(( (n * $1 + 99) / 100 ))p" /tmp/lat; }
diag "reservation latency over $n events: p50 $(( $(pct 50) / 1000 )) us, p99 $(( $(pct 99) / 1000 )) us, max $(( $(tail -1 /tmp/lat) / 1000 )) us"
awk '{ b = 1; while ($1 >= b * 1000) b *= 2; h[b]++ } END { for (b in h) print b, h[b] }' /tmp/lat |
	sort -n | while read -r b c; do diag "  latency < $b us: $c"; done
grep -h "entries-in-buffer" $trace/trace | sed 's/^# */# trace: /'
diag "failed reservations: $(($(vmstat mte_tag_reserve_fail) - failed)) (vmstat), by error: $(sed -n 's/.*mte_tag_reserve: .* ret=\(-[0-9]*\) .*/\1/p' $trace/trace | sort | uniq -c | tr -s ' \n' ' ')"
rmdir $trace

diag "tags held for copies and swap-ins that could not take them: $(($(vmstat mte_tag_held) - held))"
check_eq "no tags were dropped (mte_tag_dropped)" $(($(vmstat mte_tag_dropped) - dropped)) 0
check_eq "the kernel reported no dropped tags" "$(dmesg | grep -c 'MTE: tags of a .* dropped')" 0

swapoff /dev/zram0
check "the tag node's data survived" hold_finish /tmp/fill
check "the blocks went back to data use" wait_for_release $region "$baseline"
check_eq "the verifier is clean" "$(verify_field violations)" 0
check_eq "no block is miscounted" "$(verify_field miscounted)" 0
echo 1000 > /sys/kernel/mm/mte_tag_node/release_delay_ms
done_testing

#!/bin/sh
# Spill: with demotion on, reclaim on node 0 moves untagged pages to the tag
# node; with it off, it does not. An explicit binding runs there too.
. /lab/lib.sh

# The tag nodes' memory in use, summed: with two regions, node 0 demotes
# to the nearer one.
tag_used() {
	local d s=0
	for d in /sys/kernel/mm/mte_tag_node/region*; do
		s=$((s + $(node_kb "$(cat "$d/node")" MemUsed)))
	done
	echo $s
}
nid=$(cat /sys/kernel/mm/mte_tag_node/region0/node)
knob=/sys/kernel/mm/numa/demotion_enabled
cg=/sys/fs/cgroup/spill
echo +memory > /sys/fs/cgroup/cgroup.subtree_control
mkdir -p $cg

# reclaim_in_cgroup ENABLED: hold 96 MiB in a cgroup, ask reclaim for 64 MiB,
# print how many kB the tag node gained and whether the data survived.
reclaim_in_cgroup() {
	echo "$1" > $knob
	sync; echo 3 > /proc/sys/vm/drop_caches
	before=$(tag_used)
	demoted_before=$(vmstat pgdemote_direct)
	bg_start /tmp/spill sh -c "echo \$\$ > $cg/cgroup.procs; exec numactl --cpunodebind=0 --membind=0 hold 96 /tmp/spill"
	echo 64M > $cg/memory.reclaim 2>/dev/null
	after=$(tag_used)
	bg_finish /tmp/spill
	echo "$((after - before)) $? $(( $(vmstat pgdemote_direct) - demoted_before ))"
}

set -- $(reclaim_in_cgroup 1)
diag "demotion on: tag node +$1 kB, pgdemote_direct +$3"
check "demotion on: reclaim moves >= 32 MiB to tag nodes" [ "$1" -ge 32768 ]
check "demotion on: pgdemote_direct counts it" [ "$3" -ge 8192 ]
check "demotion on: the data survived" [ "$2" = 0 ]

set -- $(reclaim_in_cgroup 0)
diag "demotion off: tag node +$1 kB, pgdemote_direct +$3"
check "demotion off: the tag node gains < 4 MiB" [ "$1" -lt 4096 ]
check_eq "demotion off: nothing demoted" "$3" 0
check "demotion off: the data survived" [ "$2" = 0 ]

hold_start 48 /tmp/bind numactl --membind="$nid" --
# The holder's own pages on the tag node (numactl execs the holder).
pages=$(grep -o "N$nid=[0-9]*" "/proc/$hold_pid/numa_maps" | cut -d= -f2 |
	awk '{ s += $1 } END { print s + 0 }')
check "numactl --membind=$nid places all 48 MiB on the tag node ($pages pages)" \
	[ "$pages" -ge 12288 ]
check "membind: the data survived" hold_finish /tmp/bind
done_testing

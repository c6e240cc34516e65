#!/bin/sh
# "mte-numa run --avoid-tag-nodes -- memhog" never places a page on the tag
# node, while demotion is on and the tag node is half full of untagged data
# pinned there with numactl --membind. Then the limit the admin guide
# states: reclaim demotion ignores the binding, and spill off stops it.
. /lab/lib.sh

nid=$(cat /sys/kernel/mm/mte_tag_node/region0/node)
knob=/sys/kernel/mm/numa/demotion_enabled
demotion_before=$(cat $knob)

# pages PID NODE: pages of the process on NODE, all mappings summed.
pages() {
	awk -v n="N$2=" '{ for (i = 1; i <= NF; i++) if (index($i, n) == 1) s += substr($i, length(n) + 1) }
		END { print s + 0 }' "/proc/$1/numa_maps" 2>/dev/null
}
# all_pages PID: pages of the process on any node.
all_pages() {
	awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^N[0-9]+=/) { sub(/^N[0-9]+=/, "", $i); s += $i } }
		END { print s + 0 }' "/proc/$1/numa_maps" 2>/dev/null
}

mte-numa spill on > /dev/null
check_eq "mte-numa spill on: demotion is on" "$(cat $knob)" true
hold_start 72 /tmp/avoid-pin numactl --membind="$nid" --
total=$(node_kb "$nid" MemTotal); used=$(node_kb "$nid" MemUsed)
diag "tag node $nid: $used of $total kB used"
check "the tag node is at least half full" [ $((used * 2)) -ge "$total" ]
check "the pinned data is on the tag node ($(pages "$hold_pid" "$nid") pages)" \
	[ "$(pages "$hold_pid" "$nid")" -ge 18432 ]

# memhog rewrites its 256 MiB over and over until killed; look at where its
# pages are twenty times while it runs.
mte-numa run --avoid-tag-nodes -- memhog -r1000000 256M > /dev/null &
hog=$!
worst=0 most=0 i=0
while [ $i -lt 20 ]; do
	sleep 0.5
	on_tag=$(pages $hog "$nid"); all=$(all_pages $hog)
	[ "$on_tag" -gt "$worst" ] && worst=$on_tag
	[ "$all" -gt "$most" ] && most=$all
	i=$((i + 1))
done
stat=$(numastat -p $hog)
check "memhog was still running when last looked at" kill -0 $hog
kill $hog; wait $hog 2>/dev/null
diag "memhog: up to $most pages, up to $worst of them on node $nid"
check "memhog held its 256 MiB (65536 pages) while looked at" [ "$most" -ge 65536 ]
check_eq "run --avoid-tag-nodes -- memhog: no page on the tag node, ever" "$worst" 0
col=$((nid + 2))
check_eq "numastat -p shows nothing of memhog on node $nid" \
	"$(echo "$stat" | awk -v c=$col '$1 == "Total" { print $c }')" 0.00
check "the pinned data survived" hold_finish /tmp/avoid-pin

# Reclaim in a memory cgroup of a holder run with --avoid-tag-nodes.
cg=/sys/fs/cgroup/avoid
echo +memory > /sys/fs/cgroup/cgroup.subtree_control
mkdir -p $cg
# demoted_under_reclaim on|off: pages of the holder that reclaim moved to
# the tag node, then whether its data survived.
demoted_under_reclaim() {
	mte-numa spill "$1" > /dev/null
	bg_start /tmp/avoid-cg sh -c "echo \$\$ > $cg/cgroup.procs; exec mte-numa run --avoid-tag-nodes -- hold 96 /tmp/avoid-cg"
	echo 64M > $cg/memory.reclaim 2>/dev/null
	n=$(pages $bg_pid "$nid")
	bg_finish /tmp/avoid-cg
	echo "$n $?"
}
set -- $(demoted_under_reclaim on)
diag "spill on: reclaim moved $1 pages of the bound holder to node $nid"
check "spill on: demotion ignores the binding, as the guide says ($1 pages demoted)" [ "$1" -gt 0 ]
check "spill on: the data survived" [ "$2" = 0 ]
set -- $(demoted_under_reclaim off)
check_eq "spill off: reclaim moves nothing of the bound holder to node $nid" "$1" 0
check "spill off: the data survived" [ "$2" = 0 ]
rmdir $cg

check_match "the verifier finds no violation" "$(cat /sys/kernel/debug/mte_tag_node/verify)" '^violations 0$'
echo "$demotion_before" > $knob
done_testing

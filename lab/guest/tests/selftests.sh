#!/bin/sh
# The upstream arm64 MTE selftests, with the tag node over half full of
# untagged data pinned there by numactl --membind. The host compares each
# verdict with a run where the feature is off (lab/selftests_compare.py).
. /lab/lib.sh

nid=$(cat /sys/kernel/mm/mte_tag_node/region0/node 2>/dev/null)
if [ -n "$nid" ]; then
	hold_start 72 /tmp/self numactl --membind="$nid" --
	total=$(node_kb "$nid" MemTotal); used=$(node_kb "$nid" MemUsed)
	diag "tag node $nid: $used of $total kB used"
	check "the tag node is at least half full" [ $((used * 2)) -ge "$total" ]
fi
limit=$((120 * $(timeout_scale)))
for t in /lab/selftests/check_*; do
	name=$(basename "$t")
	timeout "$limit" "$t" > /tmp/st.out 2>&1
	status=$?
	grep -E '^(not )?ok [0-9]+' /tmp/st.out > /tmp/st.cases
	while read -r verdict rest; do
		case $verdict in
		not) not_ok "$name: ${rest#ok }" ;;
		*) ok "$name: $(echo "$rest" | sed 's/^[0-9]* *//')" ;;
		esac
	done < /tmp/st.cases
	[ "$status" = 143 ] && diag "$name: killed after ${limit} s"
	check "$name exits with pass or skip (status $status)" test "$status" = 0 -o "$status" = 4
done
[ -n "$nid" ] && check "the pinned data survived" hold_finish /tmp/self
done_testing

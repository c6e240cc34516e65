#!/bin/sh
# What an operator sees first: the nodes, the memory tiers, the tool's status.
. /lab/lib.sh

echo "# --- numactl -H"
numactl -H | sed 's/^/# /'
check "numactl -H runs" numactl -H >/dev/null
echo "# --- memory tiers"
for t in /sys/devices/virtual/memory_tiering/memory_tier*; do
	[ -e "$t/nodelist" ] && echo "# $(basename "$t"): nodes $(cat "$t/nodelist")"
done
echo "# --- demotion: $(cat /sys/kernel/mm/numa/demotion_enabled)"
dmesg | grep -i "demotion targets" | sed 's/^/# /'
echo "# --- mte-numa status"
mte-numa status 2>&1 | sed 's/^/# /'
check "mte-numa status runs" mte-numa status >/dev/null
top=/sys/kernel/mm/mte_tag_node
case $(scenario) in
off)	check_eq "mte_tag_node=off: mode off" "$(cat $top/mode)" off
	check_eq "mte_tag_node=off: nothing hot-plugged" "$(grep -c 'mte_tag_node' /proc/iomem)" 0
	check_eq "mte_tag_node=off: the region is not memory" "$(node_kb 1 MemTotal)" 0 ;;
nomte)	check_eq "arm64.nomte: mode plain" "$(cat $top/mode)" plain
	check "arm64.nomte: node 1 holds ~128 MiB" test "$(node_kb 1 MemTotal)" -gt 120000
	check_eq "arm64.nomte: no block in tag use" "$(cat $top/region0/blocks_tags)" 0
	hold_start 48 /tmp/plain numactl --membind=1 --
	check "arm64.nomte: membind=1 runs there" test "$(node_kb 1 MemUsed)" -gt 45000
	check "arm64.nomte: data intact" hold_finish /tmp/plain ;;
kasanhw) check_eq "kasan=on, hw tags: mode off" "$(cat $top/mode)" off
	check "kasan=on, hw tags: KASAN runs in hw-tags mode" sh -c "dmesg | grep -q 'KernelAddressSanitizer initialized (hw-tags'"
	check "kasan=on, hw tags: the kernel says why the feature is off" \
		sh -c "dmesg | grep -q 'mte_tag_node: off: hardware tag-based KASAN'"
	check_eq "kasan=on, hw tags: the reason in sysfs" "$(cat $top/reason 2>/dev/null || echo missing)" \
		"hardware tag-based KASAN needs tags in atomic context"
	check_eq "kasan=on, hw tags: nothing hot-plugged" "$(grep -c 'mte_tag_node' /proc/iomem)" 0
	check_eq "kasan=on, hw tags: the region is not memory" "$(node_kb 1 MemTotal)" 0 ;;
notag)	check_eq "no region: mode none" "$(cat $top/mode)" none
	check_eq "no region: no region directory" "$(ls -d $top/region* 2>/dev/null | wc -l)" 0 ;;
*)	check_eq "mode active" "$(cat $top/mode)" active ;;
esac
echo "# MEMINFO $(awk '/^(MemTotal|MemFree|MemAvailable):/ { printf "%s%s ", $1, $2 }' /proc/meminfo)"
done_testing

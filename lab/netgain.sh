#!/usr/bin/env bash
# Net memory gained at idle: MemTotal with the feature on minus off, over the
# tag region size (BRIEF: >= 0.98). Both boots are the same layout and plan.
#   lab/netgain.sh ON.log OFF.log
set -uo pipefail
field() { sed -n "s/.*# MEMINFO .*$2:\([0-9]*\).*/\1/p" "$1" | head -1; }
region_kb=$((128 * 1024))
on_total=$(field "$1" MemTotal); off_total=$(field "$2" MemTotal)
on_free=$(field "$1" MemFree); off_free=$(field "$2" MemFree)
if [ -z "$on_total" ] || [ -z "$off_total" ]; then
	echo "not ok 1 - net gain: MEMINFO missing from $1 or $2"; echo "1..1"; exit 0
fi
ratio() { awk -v a="$1" -v b="$2" -v r="$region_kb" 'BEGIN { printf "%.4f", (a - b) / r }'; }
total=$(ratio "$on_total" "$off_total"); free=$(ratio "$on_free" "$off_free")
echo "# MemTotal on $on_total kB, off $off_total kB: gain $((on_total - off_total)) kB = $total of the region"
echo "# MemFree  on $on_free kB, off $off_free kB: gain $((on_free - off_free)) kB = $free of the region"
echo "# (MemFree also pays the hot-plugged memmap, 1/64 of the region, taken from DRAM)"
if awk -v t="$total" 'BEGIN { exit !(t >= 0.98) }'; then
	echo "ok 1 - net gain (MemTotal) $total >= 0.98"
else
	echo "not ok 1 - net gain (MemTotal) $total >= 0.98"
fi
echo "1..1"

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Host tests of mte-numa over the captured-style trees in tests/fixtures.
#
#   tests/run.sh BINARY
#
# Each fixture is a /sys and /proc tree as the kernel would show it in one
# situation; the tool reads it through --sysfs-root. The run command acts on
# this machine instead, which has no tag node. Prints TAP, then
# "N passed, M failed"; exits 1 if a test failed.
set -u

bin=$(realpath "${1:?usage: tests/run.sh BINARY}")
fixtures=$(cd "$(dirname "$0")/fixtures" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unset MTE_NUMA_ROOT

n=0
passed=0
failed=0
rc=0
what=

# report STATUS DESCRIPTION: one TAP line; on failure, what the tool said.
report() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		passed=$((passed + 1))
		echo "ok $n - $2"
		return
	fi
	failed=$((failed + 1))
	echo "not ok $n - $2"
	echo "# exit $rc; stdout:"
	head -n 20 "$tmp/out" | sed 's/^/#   /'
	echo "# stderr:"
	head -n 10 "$tmp/err" | sed 's/^/#   /'
}

skip() {
	n=$((n + 1))
	passed=$((passed + 1))
	echo "ok $n - $1 # SKIP $2"
}

# at ROOT ARGS...: run the tool on the tree ROOT.
at() {
	local root=$1

	shift
	"$bin" --sysfs-root "$root" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	what="${root#"$fixtures"/}: $*"
}

# on CASE ARGS...: run the tool on a fixture.
on() {
	local case=$1

	shift
	at "$fixtures/$case" "$@"
}

# real ARGS...: run the tool on this machine.
real() {
	"$bin" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	what="this machine: $*"
}

exits() {
	[ "$rc" = "$1" ]
	report $? "$what: exits $1"
}

says() {
	grep -qE -- "$1" "$tmp/out"
	report $? "$what: prints /$1/"
}

says_not() {
	! grep -qE -- "$1" "$tmp/out"
	report $? "$what: does not print /$1/"
}

warns() {
	grep -qE -- "$1" "$tmp/err"
	report $? "$what: warns /$1/"
}

quiet() {
	[ ! -s "$tmp/err" ]
	report $? "$what: nothing on stderr"
}

json_valid() {
	python3 -m json.tool "$tmp/out" >/dev/null 2>&1
	report $? "$what: valid JSON"
}

# json EXPR VALUE: the JSON value of EXPR (Python, over the document d) is VALUE.
json() {
	local got

	got=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(json.dumps(eval(sys.argv[2])))' "$tmp/out" "$1" 2>&1)
	[ "$got" = "$2" ]
	report $? "$what: $1 is $2${got:+ (got $got)}"
}

# --- active-one-region: one region, a tagged workload running

on active-one-region status
exits 0
quiet
says '^mte_tag_node +active: tag nodes hold untagged data only$'
says '^adistance +704$'
says '^demotion +enabled$'
says '^tag nodes +1$'
says '^0 +3\.8 GiB +yes +4 +1 +-$'
says '^1 +128 MiB +no +5 +- +tag node \(region0\)$'
says '^region0  tag-storage@140000000$'
says 'node +1, tier 5, demotion target of 0, demotes to -$'
says 'tag range +0x140000000-0x147ffffff \(128 MiB\)$'
says 'data range +0x40000000-0x13fffffff \(4 GiB\)$'
says 'online range +0x140000000-0x147ffffff \(128 MiB\)$'
says 'block size +4 KiB$'
says 'blocks +32768 total: 32510 data, 2 evacuating, 256 tags, 0 releasing, 0 reserved$'
says '^  mte_tag_reserve +258$'
says '^  mte_tag_relocated +41$'
says '^  mte_tag_held +3$'
says '^  mte_tag_dropped +0$'

on active-one-region status --json
exits 0
json_valid
json 'd["feature"]["mode"]' '"active"'
json 'd["feature"]["adistance"]' '704'
json 'd["tag_nodes"]' '[1]'
json 'd["demotion_enabled"]' 'true'
json '[x["tier"] for x in d["nodes"]]' '[4, 5]'
json 'd["nodes"][1]["tag_node"]' 'true'
json 'd["nodes"][1]["memory_bytes"]' '134217728'
json 'd["regions"][0]["demoted_from"]' '[0]'
json 'd["regions"][0]["tag_range"]' '"0x140000000-0x147ffffff"'
json 'd["regions"][0]["blocks"]' '{"total": 32768, "data": 32510, "evacuating": 2, "tags": 256, "releasing": 0, "reserved": 0}'
json 'd["vmstat"]["mte_tag_reserve"]' '258'
json 'd["problems"]' '[]'

on active-one-region map --width 64
exits 0
quiet
says '^region0 tag-storage@140000000  node 1  32768 blocks of 4 KiB, 512 per character$'
says '^  \.{16}TT\.{21}E\.{18}T\.{5}$'
says '^  summary: 32510 data, 2 evacuating, 256 tags, 0 releasing, 0 reserved$'
says '^legend: \. data  E evacuating  T tags  R releasing  - reserved \(not hot-plugged\)$'
says 'T > R > E > - > \.$'

on active-one-region map --json --width 100000
exits 0
json_valid
json 'd["regions"][0]["blocks_per_char"]' '1'
json 'len(d["regions"][0]["map"])' '32768'
json '[d["regions"][0]["map"].count(c) for c in ".ET-"]' '[32510, 2, 256, 0]'
json 'd["regions"][0]["map"][20000:20002]' '"EE"'

on active-one-region map --json --width 10
json 'd["regions"][0]["map"]' '"..T...E..T"'
json 'd["regions"][0]["counts"]["evacuating"]' '2'

on active-one-region map --region 0
exits 0
says '^region0 '
on active-one-region map --region 1
exits 2
warns 'there is no region1'

on active-one-region spill
exits 0
says '^demotion: enabled'
says '^tag nodes: 1$'
says '^0 +4 +1 +1$'
says '^1 +5 +- +-$'
says 'derived from /sys/devices/virtual/memory_tiering/memory_tier\*/nodelist'

cp -r "$fixtures/active-one-region" "$tmp/rw"
at "$tmp/rw" spill off
exits 0
says '^demotion: disabled: .*enable with: mte-numa spill on'
[ "$(cat "$tmp/rw/sys/kernel/mm/numa/demotion_enabled")" = false ]
report $? "spill off writes false"
at "$tmp/rw" spill on
exits 0
says '^demotion: enabled'
[ "$(cat "$tmp/rw/sys/kernel/mm/numa/demotion_enabled")" = true ]
report $? "spill on writes true"

MTE_NUMA_ROOT="$fixtures/active-one-region" "$bin" status >"$tmp/out" 2>"$tmp/err"
rc=$?
what="MTE_NUMA_ROOT=active-one-region status"
exits 0
says '^tag nodes +1$'

# --- releasing: blocks of freed tagged memory on their way back to data

on releasing status
exits 0
quiet
says 'blocks +32768 total: 32684 data, 3 evacuating, 64 tags, 17 releasing, 0 reserved$'

on releasing status --json
exits 0
json_valid
json 'd["regions"][0]["blocks"]' '{"total": 32768, "data": 32684, "evacuating": 3, "tags": 64, "releasing": 17, "reserved": 0}'
json 'd["problems"]' '[]'

# R is a known state, not a malformed map; a group shows T over R, R over E.
on releasing map --width 64
exits 0
quiet
says '^  \.{16}T\.{3}R\.{19}R\.{9}E\.{13}$'
says '^  summary: 32684 data, 3 evacuating, 64 tags, 17 releasing, 0 reserved$'
says '^legend: \. data  E evacuating  T tags  R releasing  - reserved \(not hot-plugged\)$'
says_not '\? unknown'

on releasing map --json --width 100000
exits 0
json_valid
json '[d["regions"][0]["map"].count(c) for c in ".ETR-"]' '[32684, 3, 64, 17, 0]'
json 'd["regions"][0]["map"][10239:10249]' '".RRRRRRRR."'
json 'd["regions"][0]["counts"]' '{"data": 32684, "evacuating": 3, "tags": 64, "releasing": 17, "reserved": 0, "unknown": 0}'
json 'd["problems"]' '[]'

on releasing map --json --width 10
json 'd["regions"][0]["map"]' '"..TR..RE.."'

# --- two-regions: two DRAM nodes, each with its tag node

on two-regions status
exits 0
quiet
says '^tag nodes +1,3$'
says '^2 +3\.9 GiB +yes +4 +1,3 +-$'
says '^3 +128 MiB +no +5 +- +tag node \(region1\)$'
says '^region1  tag-storage@248000000$'
says 'node +3, tier 5, demotion target of 0,2, demotes to -$'
says 'data range +0x148000000-0x247ffffff \(4 GiB\)$'
says 'blocks +32768 total: 32639 data, 1 evacuating, 128 tags, 0 releasing, 0 reserved$'

on two-regions status --json
json_valid
json 'd["tag_nodes"]' '[1, 3]'
json 'd["nodes"][2]["demotes_to"]' '[1, 3]'
json '[(r["region"], r["node"]) for r in d["regions"]]' '[[0, 1], [1, 3]]'
json 'd["tiers"]' '[{"tier": 4, "nodes": [0, 2]}, {"tier": 5, "nodes": [1, 3]}]'

on two-regions map --width 64
exits 0
says '^region1 tag-storage@248000000  node 3  32768 blocks of 4 KiB, 512 per character$'
says '^  \.{8}T\.{54}T$'
says '^  summary: 32639 data, 1 evacuating, 128 tags, 0 releasing, 0 reserved$'

on two-regions map --region 1
exits 0
says_not '^region0 '
says '^region1 '

on two-regions spill
says '^2 +4 +1,3 +1,3$'

# --- off: the feature disabled on the command line

on off status
exits 0
quiet
says '^mte_tag_node +off: disabled by mte_tag_node=off$'
says '^tag nodes +none: mode off: disabled by mte_tag_node=off$'
says '^1 +0 bytes +no +- '
says_not '^region'

on off status --json
json_valid
json 'd["feature"]["mode"]' '"off"'
json 'd["regions"]' '[]'

on off map
exits 3
warns 'no tag storage region to map: mode off'
on off map --json
exits 3
json_valid
json 'd["error"]' '"mode off: disabled by mte_tag_node=off"'

on off spill
exits 0
says '^demotion: disabled'
says '^0 +4 +- +-$'

# --- plain: MTE disabled, the region's node is plain memory

on plain status
exits 0
says '^mte_tag_node +plain: MTE is absent or disabled'
says "^tag nodes +none: mode plain: the regions' nodes are plain memory nodes"
says '^1 +128 MiB +no +5 +- +plain memory \(region0\)$'

on plain status --json
json_valid
json 'd["tag_nodes"]' '[]'
json '(d["nodes"][1]["region"], d["nodes"][1]["tag_node"])' '[0, false]'

on plain map
exits 0
says '^  \.{64}$'
says '^  summary: 32768 data, 0 evacuating, 0 tags, 0 releasing, 0 reserved$'

on plain spill
says '^0 +4 +1 +-$'

# --- absent: a kernel without the feature

on absent status
exits 0
quiet
says '^mte_tag_node +feature not built into this kernel'
says '^tag nodes +none: the MTE tag node feature is not built into this kernel$'
says_not '^adistance'

on absent status --json
json_valid
json 'd["feature"]' '{"built": false, "mode": null, "reason": null, "adistance": null}'

on absent map
exits 3
warns 'not built into this kernel'

on absent spill
exits 0
says '^0 +4 +- +-$'

# --- partial: files missing

on partial status
exits 0
warns 'region0/blocks_tags unreadable'
warns 'region0/online_range unreadable'
warns 'node1/meminfo unreadable'
warns 'memory_tiering unreadable'
says '^1 +\? +no +- +- +tag node \(region0\)$'
says 'online range +\?$'
says 'blocks +32768 total: 32704 data, 0 evacuating, \? tags, 0 releasing, 0 reserved$'

on partial status --json
exits 0
json_valid
json 'd["regions"][0]["blocks"]["tags"]' 'null'
json 'd["regions"][0]["online_range"]' 'null'
json 'any("region0/blocks_tags unreadable" in p for p in d["problems"])' 'true'

on partial map --json
exits 0
json_valid
json 'd["regions"][0]["counts"]["tags"]' '64'

on partial spill
exits 1
warns 'demotion_enabled unreadable'
on partial spill on
exits 1
warns 'cannot write /sys/kernel/mm/numa/demotion_enabled'

# a block map without its header, and one that cannot be read
cp -r "$fixtures/two-regions" "$tmp/maps"
sed -i 1d "$tmp/maps/sys/kernel/debug/mte_tag_node/region0/block_map"
rm "$tmp/maps/sys/kernel/debug/mte_tag_node/region1/block_map"
at "$tmp/maps" map
exits 1
warns 'region0/block_map: no valid header'
warns 'cannot read /sys/kernel/debug/mte_tag_node/region1/block_map: .*mount debugfs'
says '^region0 tag-storage@140000000  node 1  32768 blocks of 4 KiB'
says '^  summary: 32640 data, 0 evacuating, 128 tags, 0 releasing, 0 reserved$'
at "$tmp/maps" map --json
exits 1
json_valid
json 'd["regions"][1]["map"]' 'null'

# --- malformed: garbage numbers, a truncated block map

on malformed status
exits 0
warns 'adistance malformed: "seven hundred"'
warns 'region0/blocks_total malformed: "32768abc"'
warns 'region0/blocks_data malformed: "-5"'
warns 'region0/tag_range malformed'
warns 'has_memory malformed: "0-"'
warns 'memory_tier5/nodelist malformed'
warns 'mte_tag_reserve malformed: "abc"'
says 'blocks +\? total: \? data, \? evacuating, \? tags, 0 releasing, 0 reserved$'

on malformed status --json
exits 0
json_valid
json 'd["feature"]["reason"]' '"tag \"nodes\" hold?untagged \\ data ?[31monly?"'
json 'd["feature"]["adistance"]' 'null'
json 'd["demotion_enabled"]' 'null'

on malformed map
exits 0
warns 'block_map: 1 malformed rows skipped'
warns 'block_map truncated or malformed: 26474 of 32768 blocks unknown'
says '^  T\.{11}\?{52}$'
says 'summary: 6278 data, 0 evacuating, 16 tags, 0 releasing, 0 reserved, 26474 unknown$'
says '\? unknown$'
says 'T > R > E > \? > - > \.$'

on malformed map --json
json_valid
json 'd["regions"][0]["counts"]["unknown"]' '26474'

on malformed spill
exits 1
warns 'demotion_enabled malformed: "maybe"'

# --- unaligned: the region's head stays reserved

on unaligned status
exits 0
says 'online range +0x1c8000000-0x1cfffffff \(128 MiB\)$'
says 'blocks +49152 total: 32640 data, 0 evacuating, 128 tags, 0 releasing, 16384 reserved$'
says 'node +2, tier 5, demotion target of 0-1, demotes to -$'

on unaligned map --width 64
says '768 per character$'
says '^  -{22}\.{30}T\.{11}$'

on unaligned spill
says '^1 +4 +2 +2$'

# --- help and usage errors

real --help
exits 0
says '^usage: mte-numa \[--sysfs-root DIR\] COMMAND'
says '^  bench '
for cmd in status map spill run bench; do
	real "$cmd" --help
	exits 0
	says "^usage: mte-numa .*$cmd"
done

real
exits 2
real frobnicate
exits 2
warns "unknown command 'frobnicate'"
real --sysfs-root "$tmp/none" status
exits 2
warns 'is not a directory'
real --sysfs-root
exits 2
on active-one-region status --bogus
exits 2
warns "status: unknown option '--bogus'"
on active-one-region status extra
exits 2
on active-one-region map --width 0
exits 2
on active-one-region map --width
exits 2
warns "option '--width' needs a value"
on active-one-region map --region x
exits 2
on active-one-region spill maybe
exits 2
warns 'say on or off'
on active-one-region spill on off
exits 2
real run -- true
exits 2
real run --avoid-tag-nodes --tag-nodes-only -- true
exits 2
real run --avoid-tag-nodes
exits 2
on active-one-region run --avoid-tag-nodes -- true
exits 2
warns 'run acts on this system'
real bench --size 3
exits 2
warns -- '--size wants an even number'
real bench --repeat 0
exits 2
real bench --frob
exits 2
warns "unknown option '--frob'"
real bench extra
exits 2
on active-one-region bench
exits 2
warns 'bench measures this system'
real bench --baseline "$tmp/none.json"
exits 1
warns 'cannot read'
echo '{ "mode": "off" }' > "$tmp/nofigures.json"
real bench --baseline "$tmp/nofigures.json"
exits 1
warns 'no first_touch figures'

# --- run on this machine, which has no tag node

if [ "$(uname -m)" != aarch64 ]; then
	real bench --quick --json
	exits 3
	warns 'no MTE'
else
	skip "bench refuses a machine without MTE" "this machine is arm64"
fi

if [ -d /sys/kernel/mm/mte_tag_node ]; then
	skip "run on a machine without tag nodes" "this machine has the feature"
else
	real run --tag-nodes-only -- true
	exits 3
	warns 'no tag node: the MTE tag node feature is not built into this kernel'
	real run --avoid-tag-nodes -- sh -c 'exit 7'
	exits 7
	real run --avoid-tag-nodes -- "$tmp/no-such-command"
	exits 127
	if [ -r /proc/self/numa_maps ]; then
		real run --avoid-tag-nodes -- grep -q ' bind:' /proc/self/numa_maps
		exits 0
		real run --avoid-tag-nodes -- "$bin" run --avoid-tag-nodes -- grep -q ' bind:' /proc/self/numa_maps
		exits 0
	else
		skip "run binds the command" "no /proc/self/numa_maps"
	fi
fi

echo "1..$n"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

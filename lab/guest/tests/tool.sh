#!/bin/sh
# mte-numa on the running kernel: every command, its --help, its exit
# codes, and what it says checked against the kernel's own files. With the
# feature active (scenario default) the tag node is used; in the other
# modes (scenarios off, notag) what needs a tag node must fail clearly.
. /lab/lib.sh

top=/sys/kernel/mm/mte_tag_node
knob=/sys/kernel/mm/numa/demotion_enabled
nodes=/sys/devices/system/node
t=/tmp/tool
rm -rf $t; mkdir -p $t

# tool ARGS...: run mte-numa; its output in $t/out and $t/err, status in rc.
tool() {
	mte-numa "$@" > $t/out 2> $t/err
	rc=$?
	what="mte-numa $*"
}
# cmd COMMAND...: the same for any command.
cmd() {
	"$@" > $t/out 2> $t/err
	rc=$?
	what="$*"
}
exits() { check_eq "$what: exits $1" "$rc" "$1"; }
says() { check_match "$what: prints /$1/" "$(cat $t/out)" "$1"; }
warns() { check_match "$what: says /$1/ on stderr" "$(cat $t/err)" "$1"; }
quiet() { check "$what: nothing on stderr" test ! -s $t/err; }

# Pretty-printed JSON (one member a line, as mte-numa prints it) as
# "path=value" lines: "nodes.1.memory_bytes=134217728". The last line is
# "balanced=yes" if every bracket closed.
flatten() {
	awk '
	function path(key,   i, p) {
		for (i = 2; i <= d; i++) p = p k[i] "."
		return p key
	}
	{
		line = $0; sub(/^ +/, "", line); sub(/,$/, "", line)
		key = ""; val = line
		if (line ~ /^"[^"]*": /) {
			key = line; sub(/": .*/, "", key); sub(/^"/, "", key)
			sub(/^"[^"]*": /, "", val)
		}
		if (val == "]" || val == "}") { d--; next }
		if (key == "" && d > 0) key = idx[d]++
		if (val == "{" || val == "[") { d++; k[d] = key; idx[d] = 0; next }
		print path(key) "=" val
	}
	END { print "balanced=" (d == 0 && NR ? "yes" : "no") }' "$@"
}
# jget FILE PATH: a value of flattened JSON.
jget() { sed -n "s/^$(echo "$2" | sed 's/\./\\./g')=//p" "$1"; }
jcheck() { check_eq "$what: $1 is $2" "$(jget $t/json "$1")" "$2"; }

# The nodes with memory and no CPU, by the kernel's node files.
cpuless=$(for d in $nodes/node[0-9]*; do
	n=${d##*node}
	[ -z "$(cat "$d/cpulist")" ] && [ "$(node_kb "$n" MemTotal)" -gt 0 ] && echo "$n"
done | tr '\n' ' ' | sed 's/ $//')
# The memory tier holding node $1, by the kernel's tier files.
tier_of() {
	local d
	for d in /sys/devices/virtual/memory_tiering/memory_tier*; do
		case ",$(tr - , < "$d/nodelist")," in *",$1,"*) echo "${d##*memory_tier}" ;; esac
	done
}
# expand FILE: a kernel node list ("0-2,4") as numactl prints it ("0 1 2 4").
expand() {
	awk 'BEGIN { RS = "," } NF { n = split($1, r, "-"); for (i = r[1]; i <= r[n]; i++) printf "%s%d", s++ ? " " : "", i }' "$1"
}
mode=$(cat $top/mode)
demotion_before=$(cat $knob)
diag "scenario $(scenario), mode $mode, nodes without CPUs: ${cpuless:-none}"

# --- help and usage errors, the same in every mode

tool --help
exits 0
says '^usage: mte-numa \[--sysfs-root DIR\] COMMAND \[ARGS\]$'
says '^exit: 0 success, 1 failure, 2 usage error, 3 feature or tag node absent$'
for c in status map spill run; do
	tool $c --help
	exits 0
	says "^usage: mte-numa .*$c"
	tool $c -h
	says "^usage: mte-numa .*$c"
done
tool
exits 2
warns '^usage: mte-numa'
tool frobnicate
exits 2
warns "unknown command 'frobnicate'"
tool status --bogus
exits 2
warns "status: unknown option '--bogus' \(see: mte-numa status --help\)"
tool map --width 0
exits 2
tool map --region x
exits 2
tool spill maybe
exits 2
warns 'say on or off'
check_eq "a usage error leaves demotion alone" "$(cat $knob)" "$demotion_before"
tool run -- true
exits 2
warns 'give one of --avoid-tag-nodes and --tag-nodes-only'
tool run --avoid-tag-nodes --tag-nodes-only -- true
exits 2
tool run --avoid-tag-nodes
exits 2
warns 'no command to run'
tool --sysfs-root / run --avoid-tag-nodes -- touch $t/ran
exits 2
warns 'run acts on this system'
check "run refusing --sysfs-root runs nothing" test ! -e $t/ran
MTE_NUMA_ROOT=/ mte-numa run --avoid-tag-nodes -- true 2> $t/err
check_eq "MTE_NUMA_ROOT=/ mte-numa run: exits 2" $? 2

# --- status, on the kernel's own files

tool status
exits 0
quiet
says "^mte_tag_node +$mode: $(cat $top/reason)\$"
says "^adistance +$(cat $top/adistance)\$"
case $(cat $knob) in
true) says '^demotion +enabled$' ;;
*) says '^demotion +disabled' ;;
esac
# status reads the counters once and the checks read them again: first
# let the blocks earlier tests left in tag use go back to data use. A block
# is released one to two release delays after its last tagged page goes,
# so a window of two delays with no event leaves none pending.
quiesce() {
	local window i before
	[ -f $top/release_delay_ms ] || return 0
	window=$(awk -v ms="$(cat $top/release_delay_ms)" 'BEGIN { print (2 * ms + 200) / 1000 }')
	for i in $(seq 20); do
		before="$(vmstat mte_tag_release) $(vmstat mte_tag_reserve)"
		sleep "$window"
		[ "$before" = "$(vmstat mte_tag_release) $(vmstat mte_tag_reserve)" ] && return 0
	done
	return 1
}
check "the tag nodes are at rest before status is compared" quiesce
tool status --json
exits 0
quiet
flatten $t/out > $t/json
jcheck balanced yes
jcheck feature.built true
jcheck feature.mode "\"$mode\""
jcheck feature.reason "\"$(cat $top/reason)\""
jcheck feature.adistance "$(cat $top/adistance)"
jcheck demotion_enabled "$(cat $knob)"
jcheck problems "[]"
for e in mte_tag_reserve mte_tag_reserve_fail mte_tag_release mte_tag_evacuated mte_tag_relocated \
	mte_tag_held mte_tag_dropped; do
	jcheck "vmstat.$e" "$(vmstat $e)"
done
# Every node the kernel has, in order, with its size and CPUs.
i=0
for n in $(ls $nodes | sed -n 's/^node\([0-9]*\)$/\1/p' | sort -n); do
	d=$nodes/node$n
	jcheck "nodes.$i.node" "$n"
	jcheck "nodes.$i.memory_bytes" "$(( $(node_kb "$n" MemTotal) * 1024 ))"
	jcheck "nodes.$i.cpus" "$([ -n "$(cat "$d/cpulist")" ] && echo true || echo false)"
	tier=$(tier_of "$n")
	jcheck "nodes.$i.tier" "${tier:-null}"
	i=$((i + 1))
done
# The same through --sysfs-root: sizes from meminfo instead of libnuma.
mte-numa --sysfs-root / status --json > $t/root.json 2>&1
check "status --json reads the same through --sysfs-root /" cmp -s $t/out $t/root.json

if [ "$mode" = active ]; then
	nid=$(cat $top/region0/node)
	tier=$(tier_of "$nid")
	total=$(cat $top/region0/blocks_total)
	check_eq "the node without CPUs is region0's node" "$cpuless" "$nid"
	# Counts may move while a block is released: compare with one reading.
	blocks() {
		echo "$(cat $top/region0/blocks_total) total: $(cat $top/region0/blocks_data) data, $(cat $top/region0/blocks_evacuating) evacuating, $(cat $top/region0/blocks_tags) tags, $(cat $top/region0/blocks_releasing) releasing, $(cat $top/region0/blocks_reserved) reserved"
	}

	tool status
	says "^tag nodes +$nid\$"
	says "^$nid +[0-9.]+ MiB +no +$tier +- +tag node \(region0\)\$"
	says "^0 +[0-9.]+ GiB +yes +$(tier_of 0) +$nid +-\$"
	says "^region0  $(cat $top/region0/name)\$"
	says "^  node +$nid, tier $tier, demotion target of 0, demotes to -\$"
	says "^  tag range +$(cat $top/region0/tag_range) \(128 MiB\)\$"
	says "^  data range +$(cat $top/region0/data_range) \(4 GiB\)\$"
	says "^  online range +$(cat $top/region0/online_range) "
	says "^  block size +4 KiB\$"
	says "^  blocks +$(blocks)\$"

	tool status --json
	flatten $t/out > $t/json
	jcheck tag_nodes "[$cpuless]"
	jcheck "nodes.$nid.tag_node" true
	jcheck "nodes.$nid.region" 0
	jcheck "nodes.$nid.demotes_to" "[]"
	jcheck nodes.0.tag_node false
	jcheck nodes.0.demotes_to "[$nid]"
	jcheck regions.0.node "$nid"
	jcheck regions.0.name "\"$(cat $top/region0/name)\""
	jcheck regions.0.tier "$tier"
	jcheck regions.0.demoted_from "[0]"
	for f in tag_range data_range online_range; do
		jcheck "regions.0.$f" "\"$(cat $top/region0/$f)\""
	done
	jcheck regions.0.block_size "$(cat $top/region0/block_size)"
	for f in total data evacuating tags releasing reserved; do
		jcheck "regions.0.blocks.$f" "$(cat $top/region0/blocks_$f)"
	done
	jcheck tiers.0.tier "$(tier_of 0)"
	jcheck tiers.1.nodes "[$nid]"

	# --- map, against the kernel's block map
	raw=/sys/kernel/debug/mte_tag_node/region0/block_map
	tool map
	exits 0
	quiet
	says "^region0 $(cat $top/region0/name)  node $nid  $total blocks of 4 KiB, $(( (total + 63) / 64 )) per character\$"
	says "^  [.ETR-]{64}\$"
	says "^  summary: $(cat $top/region0/blocks_data) data, $(cat $top/region0/blocks_evacuating) evacuating, $(cat $top/region0/blocks_tags) tags, $(cat $top/region0/blocks_releasing) releasing, $(cat $top/region0/blocks_reserved) reserved\$"
	says '^legend: \. data  E evacuating  T tags  R releasing  - reserved \(not hot-plugged\)$'
	tool map --region 0 --width 100000
	exits 0
	grep -v '^#' $raw | cut -c10- | tr -d '\n' > $t/raw
	sed -n '2s/^  //p' $t/out | tr -d '\n' > $t/drawn
	check "$what: one character per block, as in $raw" cmp -s $t/raw $t/drawn
	tool map --json --width 100000
	exits 0
	quiet
	flatten $t/out > $t/json
	jcheck balanced yes
	jcheck regions.0.region 0
	jcheck regions.0.node "$nid"
	jcheck regions.0.blocks "$total"
	jcheck regions.0.blocks_per_char 1
	check_eq "$what: regions.0.map is the raw map" "$(jget $t/json regions.0.map)" "\"$(cat $t/raw)\""
	jcheck regions.0.counts.tags "$(tr -cd T < $t/raw | wc -c)"
	jcheck regions.0.counts.data "$(tr -cd . < $t/raw | wc -c)"
	jcheck regions.0.counts.releasing "$(tr -cd R < $t/raw | wc -c)"
	jcheck problems "[]"
	tool map --region 1
	exits 2
	warns 'there is no region1 \(see: mte-numa status\)'

	# --- spill: the knob, both ways, and the table
	tool spill on
	exits 0
	says '^demotion: enabled: reclaim demotes pages to lower tiers$'
	check_eq "$what: writes the knob" "$(cat $knob)" true
	says "^tag nodes: $nid\$"
	says "^0 +$(tier_of 0) +$nid +$nid\$"
	says "^$nid +$tier +- +-\$"
	tool spill off
	exits 0
	says '^demotion: disabled: reclaim drops or swaps pages \(enable with: mte-numa spill on\)$'
	check_eq "$what: writes the knob" "$(cat $knob)" false
	echo true > $knob
	tool spill
	exits 0
	says '^demotion: enabled'
	check_eq "$what: leaves the knob alone" "$(cat $knob)" true
	tool status --json
	flatten $t/out > $t/json
	jcheck demotion_enabled true
	echo false > $knob
	tool spill
	says '^demotion: disabled'

	# --- run: the policy the command gets, and where its pages go
	tool run --avoid-tag-nodes -- numactl --show
	exits 0
	says '^policy: bind$'
	says '^membind: 0 *$'
	tool run --tag-nodes-only -- numactl --show
	exits 0
	says '^policy: bind$'
	says "^membind: $nid *\$"
	# placed PID NODE: pages of the process's 32 MiB mapping on NODE.
	placed() {
		awk -v n="N$2=" '
			{ big = 0; for (i = 1; i <= NF; i++) if ($i ~ /^anon=/ && substr($i, 6) + 0 >= 8192) big = 1 }
			big { for (i = 1; i <= NF; i++) if (index($i, n) == 1) s += substr($i, length(n) + 1) }
			END { print s + 0 }' "/proc/$1/numa_maps"
	}
	bg_start $t/avoid mte-numa run --avoid-tag-nodes -- hold 32 $t/avoid
	check_eq "run --avoid-tag-nodes -- hold 32: no page on node $nid" "$(placed $bg_pid "$nid")" 0
	check_eq "run --avoid-tag-nodes -- hold 32: all 8192 pages on node 0" "$(placed $bg_pid 0)" 8192
	check_match "run --avoid-tag-nodes: numa_maps shows the bind policy" \
		"$(cat /proc/$bg_pid/numa_maps)" ' bind:0 anon=8192 '
	check_match "run --avoid-tag-nodes: numastat -p shows nothing on node $nid" \
		"$(numastat -p $bg_pid)" '^Total +3[2-9]\.[0-9]+ +0\.00 '
	check "run --avoid-tag-nodes: the data survived" bg_finish $t/avoid
	bg_start $t/only mte-numa run --tag-nodes-only -- hold 32 $t/only
	check_eq "run --tag-nodes-only -- hold 32: all 8192 pages on node $nid" "$(placed $bg_pid "$nid")" 8192
	check "run --tag-nodes-only: the data survived" bg_finish $t/only

	# Composed with the policy it runs under.
	cmd numactl --membind=0 -- mte-numa run --avoid-tag-nodes -- numactl --show
	check_eq "$what: exits 0" "$rc" 0
	says '^membind: 0 *$'
	cmd numactl --interleave=all -- mte-numa run --tag-nodes-only -- numactl --show
	check_eq "$what: exits 0" "$rc" 0
	says "^membind: $nid *\$"
	cmd numactl --membind="$nid" -- mte-numa run --avoid-tag-nodes -- touch $t/ran
	check_eq "$what: exits 1" "$rc" 1
	warns "no node left to run on: nodes with memory 0-$nid, tag nodes $nid, current bind policy on $nid; run mte-numa outside that policy or cpuset"
	check "$what: runs nothing" test ! -e $t/ran
	cmd numactl --membind=0 -- mte-numa run --tag-nodes-only -- touch $t/ran
	check_eq "$what: exits 1" "$rc" 1
	warns "no node left to run on: .*current bind policy on 0;"
	check "$what: runs nothing" test ! -e $t/ran
	# ... and with the cpuset it runs in.
	cg=/sys/fs/cgroup/tool
	echo +cpuset > /sys/fs/cgroup/cgroup.subtree_control
	mkdir -p $cg
	echo 0 > $cg/cpuset.mems
	incg() { sh -c "echo \$\$ > $cg/cgroup.procs && exec \"\$@\"" sh "$@"; }
	cmd incg mte-numa run --tag-nodes-only -- touch $t/ran
	check_eq "in a cpuset of node 0, $what: exits 1" "$rc" 1
	warns "no node left to run on: nodes with memory 0, tag nodes $nid"
	check "in a cpuset of node 0, $what: runs nothing" test ! -e $t/ran
	cmd incg mte-numa run --avoid-tag-nodes -- numactl --show
	check_eq "in a cpuset of node 0, $what: exits 0" "$rc" 0
	says '^membind: 0 *$'
	rmdir $cg
else
	# --- no tag node: what needs one fails, and says why
	check_eq "no node without CPUs has memory" "$cpuless" ""
	case $mode in
	off) why='mode off: disabled by mte_tag_node=off' ;;
	none) why='mode none: no tag storage region in the device tree' ;;
	*) why="mode $mode" ;;
	esac
	tool status
	exits 0
	says "^tag nodes +none: $why\$"
	tool status --json
	flatten $t/out > $t/json
	jcheck tag_nodes "[]"
	jcheck regions "[]"
	tool map
	exits 3
	warns "no tag storage region to map: $why\$"
	tool map --json
	exits 3
	flatten $t/out > $t/json
	jcheck balanced yes
	jcheck error "\"$why\""
	tool run --tag-nodes-only -- touch $t/ran
	exits 3
	warns "^mte-numa: no tag node: $why\$"
	check "$what: runs nothing" test ! -e $t/ran
	tool run --avoid-tag-nodes -- numactl --show
	exits 0
	says '^policy: bind$'
	# Every node the kernel says has memory: with mte_tag_node=off, the
	# node firmware gave the reserved range is one, with nothing usable.
	says "^membind: $(expand $nodes/has_memory) *\$"
	tool spill on
	exits 0
	check_eq "$what: writes the knob" "$(cat $knob)" true
	says '^tag nodes: none: '
	tool spill off
	exits 0
	check_eq "$what: writes the knob" "$(cat $knob)" false
fi

# --- run passes the command's status on, and says when it cannot run it
tool run --avoid-tag-nodes -- sh -c 'echo out; exit 7'
exits 7
says '^out$'
tool run --avoid-tag-nodes -- /no/such/command
exits 127
warns 'cannot run /no/such/command: No such file or directory'
tool run --avoid-tag-nodes -- /etc
exits 126
warns 'cannot run /etc: Permission denied'

echo "$demotion_before" > $knob
done_testing

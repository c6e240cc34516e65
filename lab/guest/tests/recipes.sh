#!/bin/sh
# The recipes of the admin guide, run as written. Each recipe is the literal
# block after a ".. recipe: NAME" comment; its "$ " lines are commands, run
# in order by one shell. Every command must exit 0, and the key lines of its
# output are checked here against the kernel's own files. A recipe this
# test knows nothing about fails: give it checks below.
. /lab/lib.sh

guide=/lab/doc/mte-tag-node.rst
work=/tmp/recipes
top=/sys/kernel/mm/mte_tag_node
knob=/sys/kernel/mm/numa/demotion_enabled
rm -rf $work; mkdir -p $work

if [ "$(scenario)" != default ]; then
	ok "# SKIP the recipes describe scenario default, not $(scenario)"
	done_testing
	exit
fi
check "the guide is in the initramfs" test -r $guide

# NAME<TAB>COMMAND for each command, in the guide's order; a recipe marker
# with no command after it still gives its name, with an empty command.
awk '
	/^\.\. recipe: / { if (name != "" && !n) print name "\t"; name = $3; n = 0; state = 1; next }
	state == 1 && /::$/ { state = 2; next }
	state == 2 && /^    / { state = 3 }
	state == 2 && /^[^ ]/ { state = 0 }
	state == 3 && /^    \$ / { print name "\t" substr($0, 7); n++; next }
	state == 3 && /^[^ ]/ { state = 0 }
	END { if (name != "" && !n) print name "\t" }
' $guide > $work/all
names=$(cut -f1 $work/all | uniq)
diag "recipes: $(echo $names)"

# The recipes this test has checks for, in the guide's order.
known="inspect tiers status avoid bind spill map verify trace"
check_eq "the guide has the recipes this test checks" "$(echo $names)" "$known"

nid=$(cat $top/region0/node)
demotion_before=$(cat $knob)

# prepare NAME: what runs beside a recipe that needs a workload.
prepare() {
	case $1 in
	trace)	# A tagged workload while the recipe's "sleep 5" stands for one.
		reserve_before=$(vmstat mte_tag_reserve)
		(sleep 1; mtex place default "" 4096 small > $work/trace.mtex 2>&1) &
		;;
	esac
}

# run_recipe NAME: write the recipe as a script that keeps each command's
# output and status, run it in one shell, report each command's status.
run_recipe() {
	local name=$1 dir=$work/$1 i=0 cmd
	mkdir -p "$dir"
	awk -F '\t' -v n="$name" '$1 == n { print $2 }' $work/all > "$dir/commands"
	{
		echo "cd $dir"
		while IFS= read -r cmd; do
			i=$((i + 1))
			printf '{ %s\n} > %s/%d.out 2>&1; echo $? > %s/%d.rc\n' "$cmd" "$dir" $i "$dir" $i
		done < "$dir/commands"
	} > "$dir/script"
	prepare "$name"
	timeout $((120 * $(timeout_scale))) sh "$dir/script" > "$dir/script.out" 2>&1
	wait
	i=0
	check "recipe $name: has commands" test -s "$dir/commands"
	while IFS= read -r cmd; do
		i=$((i + 1))
		rc=$(cat "$dir/$i.rc" 2>/dev/null)
		if [ "$rc" = 0 ]; then
			ok "recipe $name: \`$cmd\` exits 0"
		else
			not_ok "recipe $name: \`$cmd\` exits ${rc:-nothing (timed out?)}"
			sed 's/^/#   /' "$dir/$i.out" 2>/dev/null | head -n 10
		fi
	done < "$dir/commands"
}

# out NAME N: the output of command N of recipe NAME.
out() { cat "$work/$1/$2.out" 2>/dev/null; }

# expect NAME N SUBSTRING EXTENDED-REGEX [WHAT]: command N of recipe NAME is
# the one meant (it contains SUBSTRING), and its output has a matching line.
expect() {
	local cmd
	cmd=$(sed -n "$2p" "$work/$1/commands")
	case $cmd in
	*"$3"*) check_match "recipe $1: \`$cmd\` ${5:-prints /$4/}" "$(out "$1" "$2")" "$4" ;;
	*) not_ok "recipe $1: command $2 is \`$cmd\`, not one with '$3'" ;;
	esac
}

# The nodes with memory but not the tag nodes, as numactl lists nodes.
others=$(awk -v t="$nid" 'BEGIN { RS = "," } {
	n = split($0, r, "-"); for (i = r[1]; i <= r[n]; i++) if (i != t) printf "%s%d", s++ ? " " : "", i }' \
	/sys/devices/system/node/has_memory)
tier_of() {
	local t
	for t in /sys/devices/virtual/memory_tiering/memory_tier*; do
		case ",$(tr - , < "$t/nodelist")," in *",$1,"*) echo "${t##*memory_tier}" ;; esac
	done
}
# numastat prints a column per node, in node order, after the row's name.
col=$(( $(echo "$others $nid" | tr ' ' '\n' | sort -n | grep -n "^$nid\$" | cut -d: -f1) + 1 ))
mb2() { awk -v k="$1" 'BEGIN { printf "%.2f", k / 1024 }'; }

for name in $names; do
	run_recipe "$name"
	case $name in
	inspect)
		expect inspect 1 "numactl -H" "^node $nid cpus: *\$" "shows node $nid without CPUs"
		expect inspect 1 "numactl -H" "^node $nid size: $(( $(node_kb "$nid" MemTotal) / 1024 )) MB\$" \
			"shows node $nid's MemTotal"
		got=$(out inspect 2 | awk -v c=$col '$1 == "MemTotal" { print $c }')
		check_eq "recipe inspect: numastat -m shows node $nid's MemTotal" \
			"$got" "$(mb2 "$(node_kb "$nid" MemTotal)")" ;;
	tiers)
		expect tiers 1 "memory_tier" "memory_tier$(tier_of "$nid")/nodelist:$nid\$"
		check "recipe tiers: the tag node's tier is below DRAM's" \
			test "$(tier_of "$nid")" -gt "$(tier_of 0)"
		expect tiers 2 "Demotion targets" "Demotion targets for Node 0: preferred: $nid(,|\$)"
		expect tiers 3 "mte-numa spill" "^0 +$(tier_of 0) +$nid +$nid\$" \
			"shows node 0 demoting to node $nid" ;;
	status)
		expect status 1 "mte-numa status" "^mte_tag_node +$(cat $top/mode): $(cat $top/reason)\$"
		expect status 1 "mte-numa status" "^tag nodes +$nid\$"
		expect status 2 "status --json" "^  \"tag_nodes\": \[$nid\],\$"
		expect status 2 "status --json" "^  \"problems\": \[\]\$" ;;
	avoid)
		expect avoid 1 "run --avoid-tag-nodes" "^membind: $others *\$"
		expect avoid 2 "numactl --membind" "^membind: $others *\$"
		expect avoid 4 "numastat -p" "^Total( +[0-9.]+)+\$"
		got=$(out avoid 4 | awk -v c=$col '$1 == "Total" { print $c }')
		check_eq "recipe avoid: numastat -p shows nothing of memhog on node $nid" "$got" 0.00
		got=$(out avoid 4 | awk '$1 == "Total" { print int($NF) }')
		check "recipe avoid: numastat -p shows memhog's 64 MiB (${got:-?} MB)" \
			test "${got:-0}" -ge 64
		pid=$(out avoid 4 | sed -n 's/.* for PID \([0-9]*\) (memhog)$/\1/p')
		check "recipe avoid: \`kill \$!\` stopped memhog (pid ${pid:-?})" \
			sh -c "[ -n '$pid' ] && ! grep -qs anon= /proc/$pid/numa_maps" ;;
	bind)
		expect bind 1 "--tag-nodes-only" "^membind: $nid *\$"
		expect bind 3 "memhog" '^\.+$' ;;
	spill)
		expect spill 1 "spill on" "^demotion: enabled"
		expect spill 2 "demotion_enabled" '^true$'
		expect spill 3 "spill off" "^demotion: disabled"
		expect spill 4 "demotion_enabled" '^false$'
		check_eq "recipe spill: the knob is as the last command left it" "$(cat $knob)" false ;;
	map)
		total=$(cat $top/region0/blocks_total)
		expect map 1 "mte-numa map" "^region0 $(cat $top/region0/name)  node $nid  $total blocks of 4 KiB"
		expect map 1 "mte-numa map" "^  summary: $(cat $top/region0/blocks_data) data, $(cat $top/region0/blocks_evacuating) evacuating, $(cat $top/region0/blocks_tags) tags, $(cat $top/region0/blocks_releasing) releasing, $(cat $top/region0/blocks_reserved) reserved\$" \
			"counts the blocks as sysfs does"
		expect map 2 "--json" "^      \"blocks\": $total,\$"
		expect map 3 "block_map" "^# $(cat $top/region0/name) node $nid blocks $total block_size $(cat $top/region0/block_size)\$" ;;
	verify)
		expect verify 1 "verify" '^violations 0$'
		expect verify 1 "verify" "^pages $(cat $top/region0/blocks_total)\$" \
			"walks every page of the tag node" ;;
	trace)
		check_match "recipe trace: the workload ran" "$(cat $work/trace.mtex 2>/dev/null)" '^bad_tags 0$'
		expect trace 6 "mte_tag_" "mte_tag_(reserve: nid=$nid block=[0-9]+ nr_blocks=[0-9]+ evacuated=[0-9]+ ret=-?[0-9]+ latency_ns=[0-9]+ isolated=[01]|release: nid=$nid block=[0-9]+)\$"
		# Every block the workload put in tag use is in the events.
		trace=/sys/kernel/tracing/trace
		check_match "trace: a reservation with its latency" "$(cat $trace)" \
			"mte_tag_reserve: nid=$nid block=[0-9]+ nr_blocks=[1-9][0-9]* evacuated=[0-9]+ ret=0 latency_ns=[1-9][0-9]* isolated=[01]\$"
		traced=$(sed -n 's/.*mte_tag_reserve: .* nr_blocks=\([0-9]*\) .*/\1/p' $trace |
			awk '{ s += $1 } END { print s + 0 }')
		check_eq "trace: the events' nr_blocks add up to the mte_tag_reserve count" \
			"$traced" $(( $(vmstat mte_tag_reserve) - reserve_before )) ;;
	*)
		not_ok "recipe $name: this test has no checks for it" ;;
	esac
done

echo "$demotion_before" > $knob
done_testing

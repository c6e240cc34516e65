# TAP helpers for guest tests. Source it.
tap_n=0
tap_failed=0

ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
not_ok() { tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $*"; }
diag() { echo "# $*"; }

# check DESCRIPTION COMMAND...: one test point from a command's status.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# check_match DESCRIPTION TEXT EXTENDED-REGEX: TEXT has a line matching.
check_match() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then ok "$1"; else not_ok "$1"; fi
}

# check_eq DESCRIPTION GOT WANT
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (got '$2', want '$3')"; fi
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" = 0 ]
}

scenario() { sed -n 's/.*lab\.scenario=\([^ ]*\).*/\1/p' /proc/cmdline; }

# timeout_scale: how much slower than the lab kernel this one runs (1 or more).
timeout_scale() {
	local s
	s=$(sed -n 's/.*lab\.timeout_scale=\([0-9]*\).*/\1/p' /proc/cmdline)
	echo "${s:-1}"
}

# node_kb NODE FIELD: a field of /sys/devices/system/node/nodeN/meminfo in kB.
node_kb() { awk -v f="$2:" '$3 == f { print $4 }' "/sys/devices/system/node/node$1/meminfo"; }

# node_wmark_kb NODE min|low|high: a watermark of NODE's zones together, in kB.
node_wmark_kb() {
	awk -v n="$1" -v w="$2" -v kb="$(awk '/^KernelPageSize/ { print $2; exit }' /proc/self/smaps)" '
		/^Node/ { node = $2 + 0 }
		node == n && $1 == w { sum += $2 }
		END { print sum * kb }' /proc/zoneinfo
}

# blocks_held REGION: blocks of REGION (its sysfs directory) in tag use or
# on their way back to data use: a releasing block is not done with yet.
blocks_held() { echo $(($(cat "$1/blocks_tags") + $(cat "$1/blocks_releasing"))); }

# wait_for_release REGION BASELINE: the blocks REGION holds fall back to
# BASELINE within 10 s, scaled for slower kernels. The shell's own
# commands fill the CPUs' LRU batches, so freed folios do not linger in
# them while this waits.
wait_for_release() {
	local i
	for i in $(seq $((100 * $(timeout_scale)))); do
		[ "$(blocks_held "$1")" -le "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# field OUTPUT KEY: the value mtex printed for KEY.
field() { printf '%s\n' "$1" | awk -v k="$2" '$1 == k { print $2 }'; }

# verify_field KEY: a line of the kernel's audit of the tag nodes.
verify_field() { awk -v k="$1" '$1 == k { print $2 }' /sys/kernel/debug/mte_tag_node/verify; }

# clean WHAT OUTPUT: mtex found contents and tags intact, and the verifier
# clean while its memory was mapped.
clean() {
	check_eq "$1: contents preserved" "$(field "$2" bad_data)" 0
	check_eq "$1: tags work" "$(field "$2" bad_tags)" 0
	check_eq "$1: the verifier found no violation while it was mapped" \
		"$(field "$2" verify_violations)" 0
}

# vmstat NAME: a /proc/vmstat counter (0 if absent).
vmstat() { awk -v f="$1" '$1 == f { print $2; found = 1 } END { if (!found) print 0 }' /proc/vmstat; }

# check_counters NAME...: each is a line of /proc/vmstat. vmstat reads an
# absent counter as 0, so a test that wants one to stay 0 checks this first.
check_counters() {
	local name
	for name; do
		check "/proc/vmstat has $name" grep -q "^$name " /proc/vmstat
	done
}

# bg_start DIR COMMAND...: run COMMAND in the background, its standard
# output in DIR.out, until it creates DIR/ready; it waits for DIR/go then.
# hold and "mtex hold" follow this protocol. Sets bg_pid.
bg_start() {
	local dir=$1
	shift
	mkdir -p "$dir"
	rm -f "$dir/ready" "$dir/go"
	"$@" > "$dir.out" &
	bg_pid=$!
	echo "$bg_pid" > "$dir.pid"
	while [ ! -e "$dir/ready" ]; do
		kill -0 "$bg_pid" 2>/dev/null || return 1
		sleep 0.1
	done
}

# bg_finish DIR: let the command started by bg_start go on; its status is ours.
bg_finish() {
	touch "$1/go"
	wait "$(cat "$1.pid")"
}

# hold_start MIB DIR [numactl args...]: fill memory in the background.
hold_start() {
	local mib=$1 dir=$2
	shift 2
	bg_start "$dir" "$@" hold "$mib" "$dir" || return 1
	hold_pid=$bg_pid
}

# hold_finish DIR: let the holder verify its memory; its status is ours.
hold_finish() { bg_finish "$1"; }

# fill_tag_node NID DIR: hold checksummed data on tag node NID, all of it
# but the first 8 MiB handed out, and 1 MiB. The data pages the allocator
# hands out first lie high in node 0, served by blocks that the last free
# pages of the tag node are often in: a fill that stopped a few MiB short
# would leave those blocks free and nothing to evacuate, and the 8 MiB
# given back instead serve memory that is handed out last. The fill only
# prefers the node: bound to it, with hold's own pages on top, it once went
# below the node's watermark and was OOM-killed.
fill_tag_node() {
	local nid=$1 dir=$2
	hold_start 8 "$dir.low" numactl --membind="$nid" -- || return 1
	hold_start $(($(node_kb "$nid" MemFree) / 1024 - 1)) "$dir" \
		numactl --preferred="$nid" -- || return 1
	hold_finish "$dir.low"
}

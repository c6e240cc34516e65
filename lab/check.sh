#!/usr/bin/env bash
# Run every test and print one closing "N passed, N failed, N skipped" line.
#
#   lab/check.sh [--extended]
#
# Stages: host unit tests of the tool, static checks, the kernel builds
# (the lab kernel, and one with hardware tag-based KASAN, which turns the
# feature off), then boots of the lab scenarios: KUnit at boot, guest TAP
# tests (the admin guide's recipes and mte-numa among them), the upstream
# arm64 MTE selftests, the malformed-binding variants, the stress (with
# mte-numa bench --quick). Each stage writes TAP to build/results/STAGE.tap.
# --extended also builds and boots the debug kernel (lockdep, DEBUG_VM,
# KASAN, DEBUG_ATOMIC_SLEEP).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

results=$LAB_BUILD/results
rm -rf "$results"; mkdir -p "$results"
extended=0
[ "${1:-}" = --extended ] && extended=1

# stage NAME COMMAND...: run a command whose stdout is TAP.
stage() {
	local name=$1 start; shift
	start=$(date +%s)
	"$@" > "$results/$name.tap" 2> "$results/$name.err"
	local rc=$?
	if ! grep -Eq '^(not )?ok ' "$results/$name.tap"; then
		echo "not ok 1 - $name produced no test point (exit $rc); see $results/$name.err" >> "$results/$name.tap"
	elif [ $rc != 0 ] && ! grep -q '^not ok' "$results/$name.tap"; then
		echo "not ok - $name exited $rc" >> "$results/$name.tap"
	fi
	printf '[lab] %-28s %4ds  %s\n' "$name" $(( $(date +%s) - start )) \
		"$(summary "$results/$name.tap")" >&2
	grep '^not ok' "$results/$name.tap" | sed 's/^/    /' >&2
}

summary() {
	awk '/^ok / && /# SKIP/ { s++; next } /^ok / { p++ } /^not ok / { f++ }
	     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$@"
}

# A command that fails the build of the lab is one failing test point.
tap_of() {
	local desc=$1; shift
	if "$@" >&2; then echo "ok 1 - $desc"; else echo "not ok 1 - $desc"; fi
}

boot() {
	local scenario=$1 plan=$2 variant=${3:-lab} log; shift 3 || shift $#
	log=$("$LAB_TOP/lab/qemu.sh" "$scenario" "$plan" "$variant") || return 1
	python3 "$LAB_TOP/lab/logtap.py" "$log" "$@" | sed "s/^\(\(not \)\?ok [0-9]* - \)/\1$scenario: /"
}

# tap_join: TAP streams one after the other as one, renumbered, one plan.
tap_join() {
	awk '/^1\.\./ { next }
	     /^(not )?ok [0-9]+/ { n++; sub(/ok [0-9]+/, "ok " n) }
	     { print }
	     END { print "1.." n }'
}

# The upstream MTE selftests with the tag node half full, against a run with
# the feature off: the verdicts must be the same.
selftests_on_off() {
	local variant=$1 on off
	on=$("$LAB_TOP/lab/qemu.sh" default selftests "$variant") || return 1
	off=$("$LAB_TOP/lab/qemu.sh" selftests-off selftests "$variant") || return 1
	{
		python3 "$LAB_TOP/lab/selftests_compare.py" "$on" "$off"
		python3 "$LAB_TOP/lab/logtap.py" "$on" | grep "kernel log\|did not finish" || true
	} | tap_join
}

# The stress plan: mte-numa bench --quick, whose JSON is checked here, then
# the stress itself (lab.stress_seconds= of the scenario, default 45 s).
stress_boot() {
	local scenario=$1 variant=$2 log
	log=$("$LAB_TOP/lab/qemu.sh" "$scenario" stress "$variant") || return 1
	{
		python3 "$LAB_TOP/lab/logtap.py" "$log" |
			sed "s/^\(\(not \)\?ok [0-9]* - \)/\1$scenario: /"
		python3 "$LAB_TOP/lab/benchjson.py" check "$log"
	} | tap_join
}

stage host-tool make -s -C "$LAB_TOP/tools/mte-numa" test
stage deps tap_of "build dependencies are installed" "$LAB_TOP/lab/deps.sh"
stage kernel tap_of "lab kernel builds" "$LAB_TOP/lab/kernel.sh" build lab
stage kernel-kasanhw tap_of "HW tag-based KASAN kernel builds" "$LAB_TOP/lab/kernel.sh" build kasanhw
stage static "$LAB_TOP/lab/static.sh"
stage initramfs tap_of "initramfs builds" "$LAB_TOP/lab/initramfs.sh"

# The boots run in two lanes of stages, each lane in order. Most guest tests
# keep one vCPU busy, so two QEMUs share the two host cores well; the lanes
# are about equally long.
boot_lane() {
	stage boot-default boot default tagnode lab --kunit
	for s in flat two; do stage "boot-$s" boot "$s" tagnode lab; done
	for s in default off nomte notag; do stage "demo-$s" boot "$s" demo lab; done
	stage demo-kasanhw boot kasanhw demo kasanhw --kunit
	for s in $(awk '$1 ~ /^bad-/ { print $1 }' "$LAB_TOP/lab/scenarios/list"); do
		stage "binding-$s" boot "$s" binding lab
	done
	stage exclusion boot default exclusion lab
	stage stress stress_boot default lab
}

feature_lane() {
	stage selftests selftests_on_off lab
	stage tool boot default tool lab
	for s in off notag; do stage "tool-$s" boot "$s" tool-absent lab; done
	stage reserver boot default reserver lab
	stage migrate boot two migrate lab
	stage model boot default model lab
	for s in kvm kvm-off; do stage "$s" boot "$s" kvm lab; done
}

boot_lane &
feature_lane &
wait

if [ $extended = 1 ]; then
	stage debug-kernel tap_of "debug kernel builds" "$LAB_TOP/lab/kernel.sh" build debug
	stage debug-boot boot default tagnode debug --kunit
	stage debug-exclusion boot default exclusion debug
	stage debug-reserver boot default reserver debug
	stage debug-stress stress_boot stress-long debug
	stage debug-selftests selftests_on_off debug
fi

echo "results: $results" >&2
line=$(summary "$results"/*.tap)
echo "$line"
case $line in *" 0 failed"*) exit 0 ;; *) exit 1 ;; esac

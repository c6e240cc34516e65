#!/usr/bin/env bash
# Boot the lab kernel in QEMU for one scenario and one guest test plan.
#
#   lab/qemu.sh SCENARIO PLAN [VARIANT]
#
# Scenarios (lab/scenarios/list) pick the memory layout, the device tree
# overlay describing tag storage, and extra kernel arguments. The serial log
# goes to build/logs/VARIANT/SCENARIO.PLAN.log; its path is printed last.
#
# LAB_MONITOR=PATH opens QEMU's monitor on a Unix socket there, for
# lab/vcpu-stacks.py to sample where a guest that makes no progress spends
# its time, when no process in it gets to run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

scenario=${1:?scenario}; plan=${2:?plan}; variant=${3:-lab}
read -r _ layout overlay extra < <(awk -v s="$scenario" '$1 == s' "$LAB_TOP/lab/scenarios/list") ||
	lab_die "unknown scenario $scenario"

# Memory layouts. QEMU lays the nodes out contiguously from 0x40000000.
node() { echo "-object memory-backend-ram,id=m$1,size=$2 -numa node,nodeid=$1,memdev=m$1${3:+,cpus=$3}"; }
# "LAYOUT+el2" boots at EL2 so that the guest kernel can run KVM.
el2=
case $layout in *+el2) el2=,virtualization=on; layout=${layout%+el2} ;; esac
case $layout in
notag)	mem=4096M; numa="$(node 0 4096M 0-1)" ;;
flat)	mem=4224M; numa="$(node 0 4224M 0-1)" ;;
tag)	mem=4224M; numa="$(node 0 4096M 0-1) $(node 1 128M) -numa dist,src=0,dst=1,val=30" ;;
unaligned) mem=6400M; numa="$(node 0 6144M 0-1) $(node 1 256M) -numa dist,src=0,dst=1,val=30" ;;
two)	mem=8448M
	numa="$(node 0 4096M 0) $(node 1 128M) $(node 2 4096M 1) $(node 3 128M)"
	numa+=" -numa dist,src=0,dst=1,val=30 -numa dist,src=0,dst=2,val=20"
	numa+=" -numa dist,src=0,dst=3,val=40 -numa dist,src=1,dst=2,val=40"
	numa+=" -numa dist,src=1,dst=3,val=50 -numa dist,src=2,dst=3,val=30" ;;
*)	lab_die "unknown layout $layout" ;;
esac

obj=$(lab_obj "$variant")
image=$obj/arch/arm64/boot/Image
initrd=$LAB_BUILD/initramfs.cpio.gz
[ -f "$image" ] || lab_die "no kernel: run lab/kernel.sh build $variant"
[ -f "$initrd" ] || lab_die "no initramfs: run lab/initramfs.sh"

machine="-M virt,mte=on,gic-version=3$el2 -cpu max -smp 2 -m $mem $numa"
# No default devices: the default NIC needs a boot ROM that a QEMU
# installed without its recommended packages lacks, and nothing uses it.
machine+=" -nodefaults -display none"
dtbdir=$LAB_BUILD/dtb; mkdir -p "$dtbdir"
dtb=$dtbdir/$scenario.dtb
# QEMU's tree depends on its version as well as on the machine options.
key=$( { echo "$machine"; qemu-system-aarch64 --version; } | sha1sum | cut -c1-12)
base=$dtbdir/base-$key.dtb
# Boots run two at a time (lab/check.sh): files are written under a name of
# their own, then renamed, so that a reader never sees one half written.
if [ ! -s "$base" ]; then
	# shellcheck disable=SC2086
	qemu-system-aarch64 $machine -machine dumpdtb="$base.$$" > "$base.$$.err" 2>&1 ||
		lab_die "QEMU could not describe the machine: $(cat "$base.$$.err")"
	rm -f "$base.$$.err"
	mv "$base.$$" "$base"
fi
# The scenario's fragment is appended to QEMU's own device tree as source,
# so its nodes keep their order (the kernel takes regions in tree order).
{
	dtc -q -I dtb -O dts "$base"
	[ "$overlay" = - ] || cat "$LAB_TOP/lab/scenarios/$overlay.dtsi"
} | dtc -q -I dts -O dtb -o "$dtb.$$" -
mv "$dtb.$$" "$dtb"

logdir=$LAB_LOGS/$variant; mkdir -p "$logdir"
log=$logdir/$scenario.$plan.log
# The debug kernel (KASAN, lockdep) runs 7 to 15 times slower under TCG: the
# guest's own timeouts and the boot's are scaled for it.
scale=${LAB_TIMEOUT_SCALE:-$([ "$variant" = debug ] && echo 4 || echo 1)}
timeout=${LAB_TIMEOUT:-$((900 * scale))}
cmdline="console=ttyAMA0 panic=-1 oops=panic lab.plan=$plan lab.scenario=$scenario lab.timeout_scale=$scale ${extra:-}"
# shellcheck disable=SC2086
timeout --foreground "$timeout" qemu-system-aarch64 $machine -no-reboot -serial stdio \
	${LAB_MONITOR:+-monitor unix:$LAB_MONITOR,server,nowait} \
	-kernel "$image" -initrd "$initrd" -dtb "$dtb" -append "$cmdline" \
	< /dev/null > "$log" 2>&1 || echo "LAB: qemu exited with $? (timeout ${timeout}s?)" >> "$log"
echo "$log"

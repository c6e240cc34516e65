#!/bin/sh
# KVM must not offer MTE to guests while tag nodes hold data (the guest's
# tags would be written without tag storage being reserved); with the
# feature off, guest MTE works as upstream.
. /lab/lib.sh

out=$(kvmcap)
check_eq "kvmcap ran (/dev/kvm present)" $? 0
diag "$(scenario): $out"
case $(scenario) in
kvm)	check_eq "KVM_CHECK_EXTENSION(KVM_CAP_ARM_MTE) is 0" "${out%% *}" check=0
	check_match "KVM_ENABLE_CAP fails with EINVAL" "$out" "enable=-1 errno=Invalid argument"
	check_match "the refusal is explained in dmesg" "$(dmesg)" "guest MTE is unavailable while MTE tag storage"
	;;
*)	check_eq "KVM_CHECK_EXTENSION(KVM_CAP_ARM_MTE) is 1" "${out%% *}" check=1
	check_match "KVM_ENABLE_CAP succeeds" "$out" "enable=0 errno=0"
	;;
esac
done_testing

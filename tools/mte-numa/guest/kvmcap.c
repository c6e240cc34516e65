// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmcap: what KVM says about guest MTE.
 *
 * Prints "check=N enable=R errno=E": the KVM_CHECK_EXTENSION answer for
 * KVM_CAP_ARM_MTE on a new VM, and the result of KVM_ENABLE_CAP. Exits 2
 * if /dev/kvm or the VM cannot be had at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(void)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_ARM_MTE };
	int kvm, vm, check, enable, err;

	kvm = open("/dev/kvm", O_RDWR);
	if (kvm < 0) {
		perror("kvmcap: /dev/kvm");
		return 2;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		perror("kvmcap: KVM_CREATE_VM");
		return 2;
	}
	check = ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_ARM_MTE);
	enable = ioctl(vm, KVM_ENABLE_CAP, &cap);
	err = enable ? errno : 0;
	printf("check=%d enable=%d errno=%s\n", check, enable, err ? strerror(err) : "0");
	return 0;
}

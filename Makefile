# mte-tag-node: MTE tag storage as CPU-less NUMA nodes (arm64, Linux 6.12).
#
#   make demo      install what is missing, build, boot the lab, show the tag node
#   make check     every test; ends with "N passed, N failed"
#
# See README.md for the rest.

.PHONY: demo check check-extended bench deps kernel kernel-debug initramfs boot \
	series series-check tool clean distclean

demo: deps kernel initramfs
	@log=$$(lab/qemu.sh $${SCENARIO:-default} demo) && \
		sed -n '/^@@BEGIN/,/^@@END/p' "$$log" | sed -n 's/^# //p'; \
		cat build/obj/lab/version.txt

check:
	lab/deps.sh
	lab/check.sh

check-extended:
	lab/deps.sh
	lab/check.sh --extended

deps:
	lab/deps.sh

kernel:
	lab/kernel.sh build lab

kernel-debug:
	lab/kernel.sh build debug

initramfs:
	lab/initramfs.sh

# make boot SCENARIO=two PLAN=tagnode
boot:
	lab/qemu.sh $${SCENARIO:-default} $${PLAN:-demo} $${VARIANT:-lab}

bench:
	lab/deps.sh
	lab/bench.sh

series:
	lab/series.sh emit

series-check:
	lab/series.sh check

tool:
	$(MAKE) -C tools/mte-numa

clean:
	rm -rf build/obj build/results build/logs build/initramfs* build/dtb

distclean:
	rm -rf build

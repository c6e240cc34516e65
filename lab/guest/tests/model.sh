#!/bin/sh
# The hardware model catches reserver bugs. Each fault injection switch
# plants one: skipping evacuation leaves data in a block in tag use, and
# releasing early gives a block back while its tagged pages live on. The
# model must turn each into corrupted data or tags, and the verifier must
# name it; the reserver tests pass only because neither happens. The
# injected bugs leave the block map inconsistent: this plan runs alone.
. /lab/lib.sh

region=/sys/kernel/mm/mte_tag_node/region0
nid=$(cat $region/node)
dbg=/sys/kernel/debug/mte_tag_node
echo 0 > /sys/kernel/mm/mte_tag_node/release_delay_ms

# Skipped evacuation: tags are written over the tag node's data.
fill_tag_node "$nid" /tmp/fill
echo Y > $dbg/inject_skip_evacuation
bg_start /tmp/skip mtex hold 32768 /tmp/skip
in_tag_blocks=$(verify_field data_in_tag_blocks)
bg_finish /tmp/skip
echo N > $dbg/inject_skip_evacuation
check "skipped evacuation: the verifier sees data in blocks in tag use" \
	[ "$in_tag_blocks" -gt 0 ]
if hold_finish /tmp/fill; then fill=intact; else fill=corrupted; fi
check_eq "skipped evacuation: the model corrupted the tag node's data" "$fill" corrupted
diag "data pages in blocks in tag use: $in_tag_blocks"

# Early release: the blocks of live tagged pages go back to data use.
# The switch goes on once the holder has set its tags: the pass started
# by the last section's exit can still be running, and a block it gave
# back before the tags were set would show nothing.
bg_start /tmp/early mtex hold 16384 /tmp/early
echo Y > $dbg/inject_early_release
# Freeing any tagged page starts a release pass, which now takes every
# block. The pass scrambles the tags of every tagged page each block
# serves, which takes seconds under TCG: the holder must not look before
# it is over, when no block is left in tag use.
mtex place default "" 4096 small > /dev/null
check "early release: the release pass gave back every block in tag use" \
	wait_for_release $region 0
unreserved=$(verify_field unreserved)
bg_finish /tmp/early
out=$(cat /tmp/early.out)
echo N > $dbg/inject_early_release
check "early release: the verifier sees tagged pages without tag storage" \
	[ "$unreserved" -gt 0 ]
check "early release: the model scrambled the tags of live pages" \
	[ "$(field "$out" bad_tags)" -gt 0 ]
diag "tagged pages without tag storage: $unreserved, pages with bad tags: $(field "$out" bad_tags)"
done_testing

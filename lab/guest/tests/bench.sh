#!/bin/sh
# mte-numa bench at full size, for lab/bench.sh: the JSON goes to the log
# as "# BENCHJSON" lines and is compared across boots on the host.
. /lab/lib.sh

mte-numa bench --json > /tmp/bench.json 2> /tmp/bench.err
rc=$?
sed 's/^/# BENCHJSON /' /tmp/bench.json
sed 's/^/# stderr: /' /tmp/bench.err
check_eq "mte-numa bench --json exits 0" "$rc" 0
done_testing

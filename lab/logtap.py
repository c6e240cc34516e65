#!/usr/bin/env python3
"""Turn a lab serial log into TAP lines.

    logtap.py LOG [--kunit]

Reads the guest's @@BEGIN/@@END blocks (TAP from each guest test), and with
--kunit the KUnit results the kernel printed at boot. Any kernel WARN, BUG,
Oops, lockdep or KASAN report, a missing @@DONE (the guest crashed or hung)
or a test script exiting non-zero without a failing test point is a failure.
Prints one TAP stream ("ok"/"not ok" lines, then "1..N") on stdout.
"""
import re
import sys

SPLATS = re.compile(
    r"(WARNING: CPU|BUG:|Oops|Kernel panic|kernel BUG at|"
    r"possible circular locking|possible recursive locking|inconsistent lock state|"
    r"sleeping function called from invalid context|KASAN:|UBSAN:|"
    r"Out of memory:|page allocation failure|stack-protector)")
TAP = re.compile(r"^(not ok|ok) \d+ ?-? ?(.*)$")
KUNIT_CASE = re.compile(r"^\s*(?:\[[ \d.]+\]\s*)?\s{4,}(not ok|ok) \d+ (.*)$")


class Stream:
    def __init__(self, prefix):
        self.prefix = prefix
        self.n = 0

    def point(self, ok, desc):
        self.n += 1
        print("%s %d - %s%s" % ("ok" if ok else "not ok", self.n, self.prefix, desc))


def guest_blocks(lines, out):
    name, failed_points, points = None, 0, 0
    for line in lines:
        line = line.rstrip("\r\n")
        if line.startswith("@@BEGIN "):
            name, failed_points, points = line.split(" ", 1)[1], 0, 0
            continue
        if line.startswith("@@END ") and name:
            status = line.rsplit(" ", 1)[1]
            if points == 0:
                out.point(False, "%s: printed no test point" % name)
            elif status != "0" and failed_points == 0:
                out.point(False, "%s: exited with %s and no failing point" % (name, status))
            name = None
            continue
        if name:
            m = TAP.match(line)
            if m:
                points += 1
                failed_points += m.group(1) == "not ok"
                out.point(m.group(1) == "ok", "%s: %s" % (name, m.group(2)))


def kunit_results(lines, out):
    """Leaf KUnit cases are indented; suites print at column 0."""
    found = 0
    for line in lines:
        m = KUNIT_CASE.match(line.rstrip("\r\n"))
        if m and "# Subtest" not in line:
            found += 1
            out.point(m.group(1) == "ok", "kunit: " + m.group(2))
    if not found:
        out.point(False, "kunit: no KUnit result in the log")


def main():
    path = sys.argv[1]
    with open(path, errors="replace") as f:
        lines = f.readlines()
    out = Stream("")
    guest_blocks(lines, out)
    if "--kunit" in sys.argv:
        kunit_results(lines, out)
    splats = [l.strip() for l in lines if SPLATS.search(l)]
    for s in splats[:5]:
        out.point(False, "kernel log: " + s)
    if not any(l.startswith("@@DONE") for l in lines):
        out.point(False, "guest did not finish (crash, hang or timeout): see " + path)
    print("1..%d" % out.n)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Compare the upstream MTE selftests with the feature on and off (R40).

    selftests_compare.py ON.log OFF.log

Every selftest case must get the same verdict with the tag node over half
full as with mte_tag_node=off; a case that passes only without the feature
is a regression. The guest's own checks of the "on" run (the node is half
full, the pinned data survived) are passed through. Prints TAP.
"""
import re
import sys

CASE = re.compile(r"^(not ok|ok) \d+ - (check_\w+: .*)$")
OWN = re.compile(r"^(not ok|ok) \d+ - ((?!check_).*)$")
# A binary killed by the guest's timeout, or crashing, prints no case for the
# rest of its run: its exit status is a test point of each run.
EXIT = re.compile(r"^(not ok|ok) \d+ - (check_\w+ exits with .*)$")


def verdicts(path):
    cases, own, exits, done = {}, [], [], False
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            done |= line.startswith("@@DONE")
            m = CASE.match(line)
            if m:
                cases[m.group(2)] = m.group(1) == "ok" or "# SKIP" in m.group(2)
                continue
            m = EXIT.match(line)
            if m:
                exits.append((m.group(1) == "ok", m.group(2)))
                continue
            m = OWN.match(line)
            if m:
                own.append((m.group(1) == "ok", m.group(2)))
    return cases, own, exits, done


def main():
    on, own, on_exits, on_done = verdicts(sys.argv[1])
    off, _, off_exits, off_done = verdicts(sys.argv[2])
    n = 0

    def point(ok, desc):
        nonlocal n
        n += 1
        print("%s %d - %s" % ("ok" if ok else "not ok", n, desc))

    point(on_done and off_done, "both selftest boots finished")
    point(len(off) > 0, "the feature-off run produced %d cases" % len(off))
    for ok, desc in own:
        point(ok, "feature on: " + desc)
    for run, exits in (("on", on_exits), ("off", off_exits)):
        for ok, desc in exits:
            point(ok, "feature %s: %s" % (run, desc))
    for case in sorted(off):
        if case not in on:
            point(False, "missing with the feature on: " + case)
        elif on[case] == off[case]:
            point(True, "same verdict on and off (%s): %s" % ("pass" if off[case] else "fail", case))
        else:
            point(False, "verdict differs (on %s, off %s): %s" % (on[case], off[case], case))
    print("# cases passing with the feature off: %d of %d" % (sum(off.values()), len(off)))
    print("1..%d" % n)


if __name__ == "__main__":
    main()

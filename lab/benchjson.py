#!/usr/bin/env python3
"""The JSON of mte-numa bench, from lab serial logs.

    benchjson.py check LOG        TAP: the JSON is valid and has every figure
    benchjson.py ratios ON[,ON...] OFF[,OFF...]
                                  the figures of the feature-on boots beside
                                  their bars, first touch against the
                                  feature-off boots: the best of each kind,
                                  so that boots alternated on and off even
                                  out a machine whose load changes

The guest prints the JSON as "# BENCHJSON " lines (tests/bench.sh,
tests/benchquick.sh).
"""
import json
import math
import sys

PREFIX = "# BENCHJSON "

# Every figure, as a path of keys, and whether it must be a number (not
# null) when the tag nodes are active.
FIGURES = [
    ("first_touch", "order0", "idle_mib_s"),
    ("first_touch", "order0", "full_mib_s"),
    ("first_touch", "thp", "idle_mib_s"),
    ("first_touch", "thp", "full_mib_s"),
    ("first_touch", "order0", "untagged_idle_mib_s"),
    ("first_touch", "thp", "untagged_idle_mib_s"),
    ("first_touch", "thp", "thp_share"),
    ("first_touch", "order0", "idle_reserve_share"),
    ("first_touch", "thp", "idle_reserve_share"),
    ("evacuation", "reservations"),
    ("evacuation", "evacuated_pages"),
    ("evacuation", "reservation_ms"),
    ("evacuation", "evacuation_mib_s"),
    ("evacuation", "memcpy_mib_s"),
    ("evacuation", "move_pages_mib_s"),
    ("evacuation", "over_move_pages"),
    ("evacuation", "over_memcpy", "value"),
    ("evacuation", "over_memcpy", "bar"),
    ("evacuation", "order0", "evacuated_pages"),
    ("evacuation", "thp", "evacuated_pages"),
    ("tag_efficiency", "bulk", "tagged_pages"),
    ("tag_efficiency", "bulk", "blocks"),
    ("tag_efficiency", "bulk", "efficiency", "value"),
    ("tag_efficiency", "scattered", "heap_mib"),
    ("tag_efficiency", "scattered", "tagged_pages"),
    ("tag_efficiency", "scattered", "blocks"),
    ("tag_efficiency", "scattered", "efficiency", "value"),
    ("latency", "reservations"),
    ("latency", "load_errors", "total"),
    ("latency", "tag_node_use"),
    ("first_touch", "order0", "tag_node_use_when_full"),
    ("latency", "p50_us"),
    ("latency", "p99_us"),
    ("latency", "max_us"),
]

BARS = {"idle": 0.95, "full": 0.50}


def extract(path):
    with open(path, errors="replace") as f:
        text = "".join(l[len(PREFIX):] for l in f if l.startswith(PREFIX))
    return json.loads(text) if text.strip() else None


def get(doc, path):
    for key in path:
        if not isinstance(doc, dict) or key not in doc:
            raise KeyError(".".join(path))
        doc = doc[key]
    return doc


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check(path):
    n = 0

    def point(ok, desc):
        nonlocal n
        n += 1
        print("%s %d - bench json: %s" % ("ok" if ok else "not ok", n, desc))

    try:
        doc = extract(path)
    except ValueError as e:
        doc = None
        print("# " + str(e))
    point(doc is not None, "valid JSON in the log")
    if doc is None:
        print("1..%d" % n)
        return
    active = doc.get("tag_nodes_active") is True
    missing = []
    for fig in FIGURES:
        try:
            v = get(doc, fig)
        except KeyError:
            missing.append(".".join(fig))
            continue
        if active and not is_number(v):
            missing.append(".".join(fig) + " (not a number: %r)" % (v,))
    point(not missing, "every figure is there" + (": missing " + ", ".join(missing) if missing else ""))
    hist = doc.get("latency", {}).get("histogram", [])
    point(isinstance(hist, list) and sum(b.get("count", 0) for b in hist) ==
          doc.get("latency", {}).get("reservations"), "the latency histogram counts every reservation")
    point(doc.get("problems") == [], "no problem reported: %r" % (doc.get("problems"),))
    print("1..%d" % n)


def best_of(logs):
    """The first document, its first-touch figures the best of all."""
    docs = []
    for log in logs.split(","):
        doc = extract(log)
        if doc is None:
            print("BAR NOT MET: no bench JSON in %s" % log)
            return None
        docs.append(doc)
    best = docs[0]
    # Each boot's figure too, to show how much boots differ.
    best["per_boot"] = {(size, key): [d["first_touch"][size][key] for d in docs]
                        for size in ("order0", "thp")
                        for key in ("idle_mib_s", "full_mib_s", "idle_reserve_share",
                                    "untagged_idle_mib_s")}
    for doc in docs[1:]:
        for size in ("order0", "thp"):
            for key in ("idle_mib_s", "full_mib_s", "untagged_idle_mib_s"):
                v = doc["first_touch"][size][key]
                if is_number(v) and (not is_number(best["first_touch"][size][key]) or
                                     v > best["first_touch"][size][key]):
                    best["first_touch"][size][key] = v
    best["boots"] = len(docs)
    return best


def untagged(on, off, size):
    """The same idle touch without PROT_MTE, on and off: the boots' own speeds.

    No part of the feature is on the path of memory without PROT_MTE. Under
    emulation, touches run up to 1.7 times apart whatever the mode, from
    boot to boot and within one: this ratio shows how far the two sides'
    boots differ on their own, beside the ratio the bar is judged on.
    """
    u_on = on["first_touch"][size]["untagged_idle_mib_s"]
    u_off = off["first_touch"][size]["untagged_idle_mib_s"]
    speed = u_on / u_off if is_number(u_on) and is_number(u_off) and u_off > 0 else None
    print("#   the same touch without PROT_MTE: on %s MiB/s, off %s MiB/s, on/off %s"
          % (u_on, u_off, "%.3f" % speed if speed else "-"))
    print("#   by boot: on %s, off %s" % (
        " ".join("%.0f" % x for x in on["per_boot"][(size, "untagged_idle_mib_s")] if is_number(x)),
        " ".join("%.0f" % x for x in off["per_boot"][(size, "untagged_idle_mib_s")] if is_number(x))))


def ratios(on_logs, off_logs):
    on, off = best_of(on_logs), best_of(off_logs)
    if on is None or off is None:
        return

    def line(ratio, bar, what):
        if ratio is None:
            print("BAR NOT MET: %s: not measured" % what)
        else:
            print("%s: %s %.3f >= %.2f" % ("bar met" if ratio >= bar else "BAR NOT MET", what, ratio, bar))

    print("== first touch of PROT_MTE memory, feature on vs mte_tag_node=off"
          " (%d MiB, best of %d runs in each of %d boots on and %d off)"
          % (on.get("size_mib", 0), on.get("repeat", 0), on["boots"], off["boots"]))
    for size, name in (("order0", "order-0"), ("thp", "THP")):
        base = off["first_touch"][size]["idle_mib_s"]
        for state in ("idle", "full"):
            v = on["first_touch"][size]["%s_mib_s" % state]
            use = on["first_touch"][size].get("tag_node_use_when_full")
            print("# %s, tag node %s: %s MiB/s, off %s MiB/s%s" % (name, state, v, base,
                  ", tag node %.1f%% in use" % (100 * use) if state == "full" and use else ""))
            print("#   by boot: on %s, off %s" % (
                " ".join("%.0f" % x for x in on["per_boot"][(size, "%s_mib_s" % state)] if is_number(x)),
                " ".join("%.0f" % x for x in off["per_boot"][(size, "idle_mib_s")] if is_number(x))))
            if state == "idle":
                print("#   share of the idle touch spent reserving tag blocks, by boot: %s" % " ".join(
                    "%.3f" % x for x in on["per_boot"][(size, "idle_reserve_share")] if is_number(x)))
                untagged(on, off, size)
            r = v / base if is_number(v) and is_number(base) and base > 0 else None
            line(r, BARS[state], "%s, tag node %s / feature off" % (name, state))
    ev = on["evacuation"]
    print("== evacuation throughput vs guest memcpy of the same bytes (first feature-on boot)")
    print("# %d reservations, %d pages evacuated in %.1f ms: %s MiB/s; memcpy %s MiB/s"
          % (ev["reservations"], ev["evacuated_pages"], ev["reservation_ms"] or 0,
             ev["evacuation_mib_s"], ev["memcpy_mib_s"]))
    print("# the kernel's own migration of the same bytes (move_pages): %s MiB/s, %.3f of memcpy;"
          " evacuation is %.2f of it"
          % (ev.get("move_pages_mib_s"), (ev.get("move_pages_mib_s") or 0) / (ev["memcpy_mib_s"] or 1),
             ev.get("over_move_pages") or 0))
    for size, name in (("order0", "order-0"), ("thp", "THP")):
        ph = ev.get(size, {})
        print("#   during the %s full touches: %s reservations of %s blocks, %s pages evacuated,"
              " %s runs isolated, %.1f ms, p50 %.0f us"
              % (name, ph.get("reservations"), ph.get("blocks"), ph.get("evacuated_pages"),
                 ph.get("isolated_runs"), ph.get("reservation_ms") or 0, ph.get("p50_us") or 0))
    line(ev["over_memcpy"]["value"], ev["over_memcpy"]["bar"], "evacuation / memcpy")
    print("== tag efficiency: tagged pages / (32 * B * blocks in tag use), B = %s" % on["block_pages"])
    for kind, what in (("bulk", "bulk PROT_MTE allocation"), ("scattered", "1% of a heap's pages tagged")):
        e = on["tag_efficiency"][kind]
        print("# %s: %d tagged pages, %d blocks" % (what, e["tagged_pages"], e["blocks"]))
        line(e["efficiency"]["value"], e["efficiency"]["bar"], what)
    lat = on["latency"]
    print("== reservation latency under a mixed load (%d s, tag node %.0f%% in use; reported, no bar)"
          % (lat["load_seconds"], 100 * (lat["tag_node_use"] or 0)))
    print("# %d reservations (%d failed), load errors %d: p50 %.0f us, p99 %.0f us, max %.0f us"
          % (lat["reservations"], lat["failed"], lat["load_errors"]["total"], lat["p50_us"] or 0,
             lat["p99_us"] or 0, lat["max_us"] or 0))
    for b in lat["histogram"]:
        if b["count"]:
            label = "< %d us" % b["below_us"] if b["below_us"] else "longer"
            print("#   %-12s %6d" % (label, b["count"]))
    for doc, name in ((on, "on"), (off, "off")):
        for p in doc.get("problems", []):
            print("# problem (%s): %s" % (name, p))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        check(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "ratios":
        ratios(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()

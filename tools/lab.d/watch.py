#!/usr/bin/python3
"""Follows one rollout live: a line a second with each version's weight, requests/s, 5xx ratio
and p95 time to first byte (from the kernel's counters, through `canaryctl status --json`), and
each decision of canaryd with its reason (from its event log). Appends the same figures to a
timeline file for the picture. Ends when the rollout reaches one of the phases asked for.

usage: watch.py --ctl CANARYCTL --config CFG --service NAME --lab-dir DIR --events FILE
                --timeline TSV --markers TSV --t0 EPOCH_S --since EPOCH_S
                --until PHASE[,PHASE] [--linger S] [--timeout S]
                [--at-weight PERCENT [--after S] --run CMD]

Events from --since on are shown; --linger keeps following for S seconds after the end, so
that traffic is seen leaving a rolled-back canary.

Exit status: 0 when the rollout reached a phase in --until, 1 when it ended in another final
phase or the timeout passed, 2 on bad usage.
"""
import argparse
import collections
import json
import os
import shlex
import subprocess
import sys
import time

FINAL = ("complete", "rolled_back")
VERSIONS = ("stable", "canary")
# Actions that are the rollout's own news; plain "none"/"hold" evaluations are shown only when
# their verdict is not a pass.
QUIET_ACTIONS = ("none", "hold")


class Style:
    def __init__(self, tty):
        self.tty = tty

    def paint(self, code, text):
        return "\033[%sm%s\033[0m" % (code, text) if self.tty else text

    def good(self, text):
        return self.paint("32", text)

    def bad(self, text):
        return self.paint("1;31", text)

    def dim(self, text):
        return self.paint("2", text)

    def bold(self, text):
        return self.paint("1", text)


def status(args):
    cmd = [args.ctl, "-c", args.config, "status", "--json", args.service]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    if out.returncode != 0:
        raise RuntimeError("canaryctl status: " + (out.stderr.strip() or "failed"))
    return json.loads(out.stdout)["services"][0]


def totals(svc):
    """(responses, 5xx) per version: counters, so that rates come from differences."""
    res = {}
    for v in VERSIONS:
        ver = svc["versions"][v]
        res[v] = (ver["http_responses_total"], ver["errors"]["http_5xx"]["total"])
    return res


class Rates:
    """Requests/s and 5xx ratio per version over the last `span` seconds of samples."""

    def __init__(self, span):
        self.span = span
        self.samples = collections.deque()

    def add(self, now, tot):
        self.samples.append((now, tot))
        while len(self.samples) > 2 and now - self.samples[1][0] >= self.span:
            self.samples.popleft()

    def get(self, v):
        if len(self.samples) < 2:
            return 0.0, None
        (t0, a), (t1, b) = self.samples[0], self.samples[-1]
        reqs = b[v][0] - a[v][0]
        errs = b[v][1] - a[v][1]
        return reqs / (t1 - t0), (errs / reqs if reqs > 0 else None)


def release(args, v):
    try:
        with open(os.path.join(args.lab_dir, v + ".release")) as f:
            return f.read().strip()
    except OSError:
        return "?"


class Events:
    """New lines of canaryd's event log for one service, from where the log ended at start."""

    def __init__(self, path, service, since):
        self.path = path
        self.service = service
        self.since_ms = since * 1000
        self.pos = 0

    def new(self):
        try:
            with open(self.path) as f:
                f.seek(self.pos)
                data = f.read()
        except OSError:
            return []
        end = data.rfind("\n") + 1
        self.pos += len(data[:end].encode())
        events = []
        for line in data[:end].splitlines():
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("service") == self.service and "decision" in ev and \
                    ev.get("time_ms", 0) >= self.since_ms:
                events.append(ev)
        return events


def worth_showing(ev):
    d = ev["decision"]
    return ev["event"] != "evaluation" or d["action"] not in QUIET_ACTIONS or \
        d["verdict"] not in ("pass", "none")


def fmt_ratio(r):
    return "    -" if r is None else "%4.1f%%" % (r * 100)


def fmt_ms(sec):
    if sec is None:
        return "     -"
    return ("%5.1fms" if sec < 0.1 else "%5.0fms") % (sec * 1000)


def p95(svc, v):
    return svc["versions"][v]["latency"]["ttfb"]["p95_s"]


def where(ro):
    if ro["phase"] in ("stage", "gate"):
        return "stage %d/%d" % (ro["stage"], ro["stages"])
    return ro["phase"].replace("_", " ")


def header(st):
    cols = "  {:>4}  {:<12} {:>7} | {:<10} {:>6} {:>6} {:>7} | {:<10} {:>6} {:>6} {:>7}"
    print(st.dim(cols.format("t", "rollout", "weight", "stable", "req/s", "5xx", "p95",
                             "canary", "req/s", "5xx", "p95")))


def line(args, st, t, svc, rates):
    ro = svc.get("rollout", {})
    cells = []
    for v in VERSIONS:
        rps, err = rates.get(v)
        e = "%6s" % fmt_ratio(err)  # padded before it is painted: escapes have no width
        if err is not None and err > 0.02:
            e = st.bad(e)
        cells.append("%-10s %6.0f %s %7s" % (release(args, v), rps, e, fmt_ms(p95(svc, v))))
    print("  %3ds  %-12s %6.2f%% | %s | %s" % (t, where(ro), svc["weight"], cells[0], cells[1]),
          flush=True)


def show_event(st, ev, t):
    d = ev["decision"]
    what = d["action"]
    text = "%s: %s" % (what, d["reason"])
    if what in ("rollback", "breaker") or d["verdict"] == "fail":
        text = st.bad(text)
    elif what in ("advance", "complete", "promote", "start"):
        text = st.good(text)
    print("  %3ds  %s %s" % (t, st.bold(">>"), text), flush=True)


def append(path, row):
    with open(path, "a") as f:
        f.write("\t".join(str(x) for x in row) + "\n")


def timeline_row(t, svc, rates):
    row = ["%.1f" % t, "%.2f" % svc["weight"]]
    for v in VERSIONS:
        rps, err = rates.get(v)
        row += ["%.1f" % rps, "%.4f" % (err or 0)]
    for v in VERSIONS:
        lat = p95(svc, v)
        row.append("%.3f" % (lat * 1000) if lat is not None else "NaN")
    return row


def marker(args, t, ev):
    d = ev["decision"]
    if d["action"] in QUIET_ACTIONS and d["verdict"] != "fail":
        return
    labels = {"advance": "%s%%" % d["weight"].rstrip("0").rstrip("."),
              "start": "start " + release(args, "canary"),
              "count failure": "check failed"}
    append(args.markers, ["%.1f" % t, labels.get(d["action"], d["action"])])


def trigger(args, st, t):
    print("  %3ds  %s %s" % (t, st.bold("!!"), args.run_shown or args.run), flush=True)
    res = subprocess.run(shlex.split(args.run), capture_output=True, text=True)
    out = (res.stdout + res.stderr).strip()
    if out:
        print("        " + out.replace("\n", "\n        "), flush=True)
    append(args.markers, ["%.1f" % t, "fault"])


def watch(args):
    st = Style(sys.stdout.isatty())
    events = Events(args.events, args.service, args.since)
    rates = Rates(2.0)
    until = args.until.split(",")
    deadline = time.monotonic() + args.timeout
    fired = args.run is None
    armed_at = None
    ended = None
    header(st)
    while True:
        now = time.time()
        t = now - args.t0
        svc = status(args)
        rates.add(now, totals(svc))
        for ev in events.new():
            if worth_showing(ev):
                show_event(st, ev, t)
            marker(args, t, ev)
        line(args, st, t, svc, rates)
        append(args.timeline, timeline_row(t, svc, rates))
        phase = svc.get("rollout", {}).get("phase")
        if phase in FINAL:
            ended = ended or now
            if now - ended >= args.linger:
                break
        if not fired and svc["weight"] >= args.at_weight:
            armed_at = armed_at or now
            if now - armed_at >= args.after:
                trigger(args, st, t)
                fired = True
        if time.monotonic() > deadline:
            print(st.bad("  no %s after %ds (phase %s)" % (" or ".join(until), args.timeout,
                                                           phase)))
            return 1
        time.sleep(max(0.0, 1.0 - (time.time() - now)))
    if phase in until:
        return 0
    print(st.bad("  the rollout ended %s, not %s" % (phase, " or ".join(until))))
    return 1


def main():
    p = argparse.ArgumentParser(description="Follow a rollout live.")
    for opt in ("--ctl", "--config", "--service", "--lab-dir", "--events", "--timeline",
                "--markers", "--until"):
        p.add_argument(opt, required=True)
    p.add_argument("--t0", type=float, required=True)
    p.add_argument("--since", type=float, required=True)
    p.add_argument("--linger", type=float, default=0.0)
    p.add_argument("--timeout", type=int, default=120)
    p.add_argument("--at-weight", type=float, default=None)
    p.add_argument("--after", type=float, default=2.0,
                   help="seconds at --at-weight before --run")
    p.add_argument("--run", default=None)
    p.add_argument("--run-shown", default=None, help="--run as a user would type it")
    args = p.parse_args()
    if (args.at_weight is None) != (args.run is None):
        p.error("--at-weight and --run go together")
    try:
        return watch(args)
    except (RuntimeError, subprocess.TimeoutExpired, ValueError, KeyError) as e:
        print("watch: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

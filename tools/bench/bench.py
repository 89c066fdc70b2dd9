#!/usr/bin/env python3
"""The benchmark behind tools/bench.sh: N QuotaRequirements over several AWS accounts (reached
through the simulator's STS roles), 4 regions and 3 services, about 1 in 100 needing an increase,
all created before the release operator starts; then figures, no asserts on time.

bench.sh builds the binaries and starts the control plane; this script starts the simulator and
the operator as real processes, measures, and stops what it started.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kube import GROUP, Kube, Tracker  # noqa: E402

OPERATOR_KEY, OPERATOR_ACCOUNT = "AKIDBENCHOPERATOR", "999999999999"
# QO_BENCH_ACCOUNTS (default 4, at most 9): how many accounts the objects spread over. With 1,
# every object shares one account, as in the first measurement of the issue.
ACCOUNTS = [f"10000000000{i + 1}" for i in range(max(1, min(9, int(os.environ.get("QO_BENCH_ACCOUNTS", 4)))))]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"]
# Healthy objects ask for no more than these values hold; one per service.
HEALTHY = [("ec2", "L-1216C47A", 1000), ("vpc", "L-DF5E4CA3", 5000), ("fargate", "L-3032A538", 1000)]
# Objects that need an increase each get a quota of their own (no other object shares it), so
# "1 in 100 needs an increase" holds after aggregation too: the EC2 Spot families.
RAISE = ["L-34B43A08", "L-3819A6DF", "L-7212CCBC", "L-C4BD4855", "L-88CF9481", "L-E3A00192",
         "L-B5D1601B", "L-85EED4F7", "L-6B0D517C"]
RAISE_FROM, RAISE_TO = 640, 2000
NAMESPACES = ["bench-a", "bench-b", "bench-c", "bench-d"]
LATENCY_NS = "bench-new"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def say(msg):
    print(msg, flush=True)


def proc_stats(pid):
    """(CPU seconds, peak RSS MiB) of a running process, from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
        with open(f"/proc/{pid}/status") as f:
            hwm = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
        return cpu, hwm / 1024
    except (OSError, StopIteration):
        return None, None


def scenario(close_after):
    lines = ["aws:", f"  accounts: {{{OPERATOR_KEY}: \"{OPERATOR_ACCOUNT}\"}}", "  roles:"]
    lines += [f"  - {{arn: \"arn:aws:iam::{a}:role/quota-operator\"}}" for a in ACCOUNTS]
    lines.append("  quotas:")
    # Usage on every quota (CloudWatch AWS/Usage series): healthy ones at 30 % and growing, the
    # ones to raise at 78 %, so every object's status carries usage and a forecast.
    lines += [f"  - {{serviceCode: {s}, quotaCode: {c}, value: {v}, "
              f"usage: {{shape: growth, start: {v * 3 // 10}, perDay: {max(1, v // 100)}}}}}"
              for s, c, v in HEALTHY]
    lines += [f"  - {{serviceCode: ec2, quotaCode: {c}, value: {RAISE_FROM}, usage: 500}}" for c in RAISE]
    lines += ["  schedule:", f"    default: {{outcome: approve, closeAfter: {close_after}}}"]
    return "\n".join(lines) + "\n"


def objects(n):
    """N objects; every 100th needs an increase on a quota key (account, region, code) of its own
    while keys last, then shares one with an earlier object at the same value."""
    keys = [(a, r, c) for c in RAISE for a in range(len(ACCOUNTS)) for r in REGIONS]
    out, raised = [], set()
    for i in range(n):
        ns = NAMESPACES[i % len(NAMESPACES)]
        if i % 100 == 50:
            a, region, code = keys[(i // 100) % len(keys)]
            raised.add((a, region, code))
            service, value = ("ec2", code), RAISE_TO
        else:
            a, region = i % len(ACCOUNTS), REGIONS[(i // 4) % len(REGIONS)]
            s, code, top = HEALTHY[(i // 16) % len(HEALTHY)]
            service, value = (s, code), 1 + (i * 7919) % top
        obj = qr(f"qr-{i:05d}", f"bench-{a}", service, region, value)
        if i % 10 == 3:
            # One in ten also keeps headroom over usage: 30 % over a 30 % peak stays below the
            # quota's value, so headroom files nothing here; it is read and worked out.
            obj["spec"]["headroom"] = {"percent": 30, "max": max(value, top)}
        out.append((ns, obj))
    return out, sum(1 for i in range(n) if i % 100 == 50), len(raised)


def qr(name, account, service, region, value):
    return {"apiVersion": "quota-operator.dev/v1alpha1", "kind": "QuotaRequirement",
            "metadata": {"name": name},
            "spec": {"accountRef": account, "aws": {"serviceCode": service[0], "quotaCode": service[1]},
                     "regions": [region], "desiredValue": value}}


def setup(kube, root):
    subprocess.run(["kubectl", "apply", "--server-side", "-f", f"{root}/crds/crds.yaml"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["kubectl", "wait", "--for=condition=Established", "crd", "--all", "--timeout=60s"],
                   check=True, stdout=subprocess.DEVNULL)
    for ns in NAMESPACES + [LATENCY_NS]:
        kube.apply(f"/api/v1/namespaces/{ns}", {"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": ns, "labels": {"quota-operator.dev/allowed": "true"}}})
    for i, acct in enumerate(ACCOUNTS):
        kube.apply(f"{GROUP}/cloudaccounts/bench-{i}", {
            "apiVersion": "quota-operator.dev/v1alpha1", "kind": "CloudAccount", "metadata": {"name": f"bench-{i}"},
            "spec": {"aws": {"accountId": acct, "roleArn": f"arn:aws:iam::{acct}:role/quota-operator"},
                     "namespaceSelector": {"matchLabels": {"quota-operator.dev/allowed": "true"}}}})


def load(kube, objs, workers=16):
    def create(item):
        ns, obj = item
        kube.must("POST", f"{GROUP}/namespaces/{ns}/quotarequirements", obj)
    t0 = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(create, objs))
    return time.monotonic() - t0


class Procs:
    """The simulator and operator processes this run started; their pids also go to a file so
    bench.sh can stop them if this script dies."""

    def __init__(self, work):
        self.work, self.procs = work, []

    def start(self, name, argv, env=None):
        log = open(f"{self.work}/{name}.log", "w")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                             env={**os.environ, **(env or {})})
        self.procs.append(p)
        with open(f"{self.work}/pids", "a") as f:
            f.write(f"{p.pid}\n")
        return p

    def wait_log(self, name, pattern, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(f"{self.work}/{name}.log") as f:
                m = re.search(pattern, f.read())
            if m:
                return m.group(1)
            time.sleep(0.1)
        raise RuntimeError(f"{name}: no /{pattern}/ in its log within {timeout}s")

    @staticmethod
    def terminate(p):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def stop_all(self):
        for p in self.procs:
            self.terminate(p)


def get_json(url, method="GET"):
    req = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(req, timeout=30) as r:
        body = r.read()
    return json.loads(body) if body else None


def reconciles(probes):
    """Finished reconciles so far, from the operator's controller-runtime counter."""
    with urllib.request.urlopen(f"http://{probes}/metrics", timeout=30) as r:
        text = r.read().decode()
    return sum(int(float(l.rsplit(" ", 1)[1])) for l in text.splitlines()
               if l.startswith("controller_runtime_reconcile_total{"))


def calls_line(calls, sts):
    totals = {k: v for k, v in calls["totals"].items() if v}
    parts = [f"{op} {n}" for op, n in sorted(totals.items())]
    sts_parts = [f"{a} {n}" for a, n in sorted(sts.items()) if n]
    line = ", ".join(parts) or "none"
    if sts_parts:
        line += "; STS " + ", ".join(sts_parts)
    throttled = sum(c["throttled"] for c in calls["byScope"])
    return sum(totals.values()), line, throttled


USAGE_CALLS = ["GetMetricData", "StartQuotaUtilizationReport", "GetQuotaUtilizationReport"]


def usage_line(calls, when):
    """Usage's calls, and the most any one (account, region) made of each."""
    scopes = {(c.get("account"), c.get("region")) for c in calls["byScope"]
              if c["operation"] in USAGE_CALLS and c["calls"]}
    parts = []
    for op in USAGE_CALLS:
        per = [c["calls"] for c in calls["byScope"] if c["operation"] == op]
        parts.append(f"{op} {sum(per)} (at most {max(per, default=0)} per account and region)")
    return f"usage:     {', '.join(parts)} over {len(scopes)} (account, region) pairs {when}"


def pid_of(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def cpu_of(pids):
    """CPU seconds so far of each named pid (None when gone)."""
    return {name: proc_stats(pid)[0] if pid else None for name, pid in pids.items()}


def others_line(before, after):
    parts = [f"{name} {after[name] - before[name]:.1f} s" for name in before
             if before[name] is not None and after.get(name) is not None]
    return f"others:    CPU while settling: {', '.join(parts)}"


def percentile(xs, p):
    xs = sorted(xs)
    return xs[max(0, min(len(xs) - 1, round(p / 100 * len(xs) + 0.5) - 1))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--objects", type=int, default=1000)
    ap.add_argument("--kubeconfig", required=True)
    ap.add_argument("--operator", required=True)
    ap.add_argument("--sim", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--timeout", type=int, default=int(os.environ.get("QO_BENCH_TIMEOUT", 1800)))
    ap.add_argument("--latency-objects", type=int, default=50)
    ap.add_argument("--resync-seconds", type=int, default=int(os.environ.get("QO_BENCH_RESYNC_SECONDS", 30)))
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    procs = Procs(args.work)
    try:
        return run(args, procs)
    finally:
        procs.stop_all()


def start_operator(procs, name, args, sim, resync, cache_ttl):
    env = {"KUBECONFIG": args.kubeconfig, "AWS_ACCESS_KEY_ID": OPERATOR_KEY, "AWS_SECRET_ACCESS_KEY": "bench",
           "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "RUST_LOG": os.environ.get("QO_BENCH_RUST_LOG", "info")}
    # Requests are followed every 2 s (the default 60 s would make the settle time a measure of
    # the poll interval, not of the operator); resync and cache TTL as given.
    p = procs.start(name, [args.operator, "run", "--probe-addr", "127.0.0.1:0", "--aws-endpoint-url", sim,
                           "--poll-seconds", "2", "--resync-seconds", str(resync),
                           "--aws-cache-ttl-seconds", str(cache_ttl)], env)
    probes = procs.wait_log(name, r"probes=(\S+)")
    return p, probes


def run(args, procs):
    n = args.objects
    kube = Kube(args.kubeconfig)
    with open(f"{args.work}/scenario.yaml", "w") as f:
        f.write(scenario("3s"))
    sim_p = procs.start("sim", [args.sim, "--scenario", f"{args.work}/scenario.yaml", "--listen", "127.0.0.1:0"])
    sim = procs.wait_log("sim", r"AWS Service Quotas simulator: (\S+)")
    setup(kube, args.root)
    objs, raising, keys = objects(n)
    say(f"== {n} QuotaRequirements: {len(ACCOUNTS)} AWS accounts through STS roles x {len(REGIONS)} regions x "
        f"3 services; {raising} need an increase ({keys} quotas), approved 3 s after filing")
    load_s = load(kube, objs)
    say(f"load:      {n} objects created in {load_s:.1f} s ({n / load_s:.0f}/s, 16 connections), "
        "all before the operator started")
    tracker = Tracker(kube)
    tracker.start()
    tracker.wait(lambda: len(tracker.settled) >= n, 120)
    writes0_by = kube.status_writes_by()
    writes0 = sum(writes0_by.values())

    # What else the machine spends while the operator settles (2 cores: the API server's share
    # is time the operator waits).
    others = {"kube-apiserver": pid_of(f"{args.work}/controlplane/apiserver.pid"),
              "etcd": pid_of(f"{args.work}/controlplane/etcd.pid"),
              "simulator": sim_p.pid, "this watcher": os.getpid()}
    others0 = cpu_of(others)
    op, probes = start_operator(procs, "operator", args, sim, 3600, 300)
    t0 = time.monotonic()
    ok = tracker.wait(lambda: tracker.count_settled() >= n, args.timeout)
    settle = time.monotonic() - t0
    others1 = cpu_of(others)
    took = [tracker.settled_at[k] - t0 for k in tracker.settled_at if tracker.settled_at[k] >= t0]
    cpu, hwm = proc_stats(op.pid)
    calls = get_json(f"{sim}/_sim/aws/calls")
    sts = get_json(f"{sim}/_sim/aws/sts/calls")
    writes_by = kube.status_writes_by()
    writes = sum(writes_by.values())
    filed = get_json(f"{sim}/_sim/aws/filed")
    if not ok:
        stuck = [k for k, v in tracker.settled.items() if not v][:5]
        say(f"NOT SETTLED: {tracker.count_settled()}/{n} after {settle:.0f}s (e.g. {stuck}); see {args.work}")
    say(f"settle:    {'all' if ok else 'NOT all'} {n} settled {settle:.1f} s after the operator started")
    if took:
        say("settled:   " + ", ".join(f"{p} % by {percentile(took, p):.1f} s" for p in (10, 50, 90, 99)))
    say(f"operator:  {cpu:.1f} s CPU ({cpu / n * 1000:.2f} ms per object), peak RSS {hwm:.1f} MiB")
    say(others_line(others0, others1))
    total, line, throttled = calls_line(calls, sts)
    say(f"cloud:     {total} Service Quotas calls ({line}; {throttled} throttled); "
        f"one read per object per resync would be {n}")
    say(f"writes:    {writes - writes0} status writes received by the API server (PUT and PATCH on /status, no-ops "
        f"included), {tracker.modified} object changes seen on the watch (resourceVersion bumps)")
    say("writes by: " + ", ".join(f"{verb} {code}: {count - writes0_by.get((verb, code), 0)}"
                                  for (verb, code), count in sorted(writes_by.items())))
    say(f"requests:  {len(filed)} filed for {keys} quotas that needed an increase")
    say(usage_line(calls, "in the first run (cache period 300 s)"))

    # New objects on the idle operator, one by one: apply to first status.
    lat = []
    for i in range(args.latency_objects):
        time.sleep(0.2)
        name = f"new-{i:03d}"
        s, code, top = HEALTHY[i % len(HEALTHY)]
        t = time.monotonic()
        kube.must("POST", f"{GROUP}/namespaces/{LATENCY_NS}/quotarequirements",
                  qr(name, f"bench-{i % len(ACCOUNTS)}", (s, code), REGIONS[i % len(REGIONS)], 1 + i))
        key = f"{LATENCY_NS}/{name}"
        if tracker.wait(lambda: key in tracker.first_status, 60):
            lat.append((tracker.first_status[key] - t) * 1000)
    if lat:
        say(f"latency:   apply-to-status p50 {percentile(lat, 50):.0f} ms, p99 {percentile(lat, 99):.0f} ms, "
            f"max {max(lat):.0f} ms ({len(lat)} new objects created one by one on the idle operator)")
    cpu, hwm = proc_stats(op.pid)
    say(f"operator:  {cpu:.1f} s CPU and peak RSS {hwm:.1f} MiB by the end of the first run")
    procs.terminate(op)

    resync(args, procs, kube, tracker, sim, n + len(lat))
    cpu, hwm = proc_stats(sim_p.pid)
    say(f"simulator: {cpu:.2f} s CPU over the whole run, peak RSS {hwm:.1f} MiB")
    tracker.stop = True
    return 0 if ok else 1


def resync(args, procs, kube, tracker, sim, total):
    """A second operator with a short resync: its first pass over healthy objects (a restart),
    then one full resync, counted by the operator's reconcile counter."""
    r = args.resync_seconds
    # The quota cache must expire within a resync period, or a resync would read nothing.
    ttl = max(1, r // 2)
    get_json(f"{sim}/_sim/aws/calls/reset", "POST")
    writes0, mod0 = kube.status_writes(), tracker.modified
    op, probes = start_operator(procs, "operator-resync", args, sim, r, ttl)
    t0 = time.monotonic()
    while reconciles(probes) < total:
        time.sleep(2)
    first = time.monotonic() - t0
    cpu0, _ = proc_stats(op.pid)
    calls = get_json(f"{sim}/_sim/aws/calls")
    count, line, _ = calls_line(calls, {})
    say(f"restart:   first pass over {total} healthy objects {first:.1f} s, {cpu0:.1f} s CPU, {count} calls "
        f"({line}), {kube.status_writes() - writes0} status writes, {tracker.modified - mod0} object changes")
    get_json(f"{sim}/_sim/aws/calls/reset", "POST")
    writes0, mod0, base = kube.status_writes(), tracker.modified, reconciles(probes)
    t1 = time.monotonic()
    deadline = t1 + max(args.timeout, 4 * r)
    while reconciles(probes) < base + total and time.monotonic() < deadline:
        time.sleep(2)
    took = time.monotonic() - t1
    cpu1, hwm = proc_stats(op.pid)
    calls = get_json(f"{sim}/_sim/aws/calls")
    count, line, _ = calls_line(calls, {})
    say(f"resync:    one full resync of {total} healthy objects (--resync-seconds {r}, cache TTL {ttl} s) "
        f"ended {took:.1f} s after the first pass: {count} cloud calls ({line}), "
        f"{kube.status_writes() - writes0} status writes, {tracker.modified - mod0} object changes, "
        f"{cpu1 - cpu0:.1f} s operator CPU; peak RSS {hwm:.1f} MiB")
    say(usage_line(calls, f"in one resync (cache period {ttl} s)"))
    procs.terminate(op)


if __name__ == "__main__":
    sys.exit(main())

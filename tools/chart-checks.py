#!/usr/bin/env python3
"""Checks on `helm template` output for tools/chart-test.sh.

Usage: chart-checks.py MODE NAMESPACE < rendered.yaml
       chart-checks.py prometheusrule NAME NAMESPACE RULES_OUT < rendered.yaml
       chart-checks.py dashboard DASHBOARD_JSON RULES_OUT
       chart-checks.py readme README CHART_DIR

Prints "ok   <check>" or "FAIL <check>: <why>" per check; chart-test.sh counts them.
"""
import ipaddress
import json
import sys

import yaml

results = []


def check(name, cond, why=""):
    results.append((name, bool(cond), why))


def by_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def one(docs, kind):
    found = by_kind(docs, kind)
    check(f"exactly one {kind}", len(found) == 1, f"found {len(found)}")
    return found[0] if found else {}


def arg_after(args, flag):
    return args[args.index(flag) + 1] if flag in args and args.index(flag) + 1 < len(args) else None


# The ClusterRole the operator may have, and no more: (apiGroup, resource) -> verbs.
CLUSTER_RULES = {
    ("quota-operator.dev", "quotarequirements"): {"get", "list", "watch"},
    ("quota-operator.dev", "cloudaccounts"): {"get", "list", "watch"},
    ("quota-operator.dev", "quotarequirements/status"): {"get", "patch", "update"},
    ("quota-operator.dev", "cloudaccounts/status"): {"get", "patch", "update"},
    ("", "namespaces"): {"get", "list", "watch"},
    ("events.k8s.io", "events"): {"create", "patch"},
    ("", "events"): {"create", "patch"},
}
# Only with karpenter.nodePools: NodePools read, never written.
KARPENTER_RULES = {("karpenter.sh", "nodepools"): {"get", "list", "watch"}}
LEASE_VERBS = {"get", "list", "watch", "create", "update", "patch"}


def flatten_rules(rules):
    out = {}
    for r in rules:
        check("no resourceNames or nonResourceURLs wildcards", "*" not in r.get("verbs", []) and "*" not in r.get("resources", []) and "*" not in r.get("apiGroups", []), str(r))
        for g in r.get("apiGroups", []):
            for res in r.get("resources", []):
                out.setdefault((g, res), set()).update(r.get("verbs", []))
    return out


QR = ("quota-operator.dev", "quotarequirements")
TEAM_RULES = {
    "view": {QR: {"get", "list", "watch"}},
    "edit": {QR: {"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}},
}
TEAM_AGGREGATION = {"view": {"view", "edit", "admin"}, "edit": {"edit", "admin"}}


def team_roles(team, mode):
    """The teams' ClusterRoles: QuotaRequirements only, never status, never CloudAccounts,
    aggregated into Kubernetes' roles unless turned off ("aggregated", "plain" or "none")."""
    if mode == "none":
        check("no team ClusterRoles (teamRoles.enabled false)", not team, str([t["metadata"]["name"] for t in team]))
        return
    names = sorted(t["metadata"]["name"].rsplit("-", 1)[1] for t in team)
    check("two team ClusterRoles, -view and -edit", names == ["edit", "view"], str(names))
    for t in team:
        kind = t["metadata"]["name"].rsplit("-", 1)[1]
        rules = flatten_rules(t.get("rules", []))
        check(f"team {kind} role: exactly {sorted(TEAM_RULES[kind][QR])} on quotarequirements", rules == TEAM_RULES[kind], str(rules))
        check(f"team {kind} role: no status, no cloudaccounts",
              not any(res.endswith("/status") or res.startswith("cloudaccounts") for _, res in rules), str(rules))
        labels = t["metadata"].get("labels", {})
        agg = {k.rsplit("aggregate-to-", 1)[1] for k, v in labels.items() if k.startswith("rbac.authorization.k8s.io/aggregate-to-") and v == "true"}
        want = TEAM_AGGREGATION[kind] if mode == "aggregated" else set()
        check(f"team {kind} role aggregated into {sorted(want) or 'nothing'}", agg == want, str(sorted(agg)))


def common(docs, ns, expect):
    dep = one(docs, "Deployment")
    spec = dep.get("spec", {})
    pod = spec.get("template", {}).get("spec", {})
    c = (pod.get("containers") or [{}])[0]
    args = c.get("args", [])
    psc, csc = pod.get("securityContext", {}), c.get("securityContext", {})

    check("replicas", spec.get("replicas") == expect["replicas"], f"{spec.get('replicas')} != {expect['replicas']}")
    check("strategy", spec.get("strategy", {}).get("type") == expect["strategy"], str(spec.get("strategy")))
    check("args start with run", args[:1] == ["run"], str(args))
    le = "--leader-election" in args
    check("--leader-election iff enabled", le == expect["leader_election"], str(args))
    if expect["leader_election"]:
        check("--leader-election-namespace is the release namespace", arg_after(args, "--leader-election-namespace") == ns, str(args))
        check("--leader-election-lease-name", arg_after(args, "--leader-election-lease-name") == expect["lease"], str(args))
    check("--probe-addr", arg_after(args, "--probe-addr") == expect["probe_addr"], str(args))
    check("--log-format", arg_after(args, "--log-format") == expect["log_format"], str(args))
    port = c.get("ports", [{}])[0]
    check("container port", port.get("containerPort") == expect["port"] and port.get("name") == "http", str(port))
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        hg = c.get(probe, {}).get("httpGet", {})
        check(f"{probe} on {path}", hg.get("path") == path and hg.get("port") == "http", str(hg))

    for k in ("runAsUser", "runAsGroup", "fsGroup"):
        v = psc.get(k)
        check(f"pod {k} is the number 65532", isinstance(v, int) and not isinstance(v, bool) and v == 65532, repr(v))
    check("pod runAsNonRoot", psc.get("runAsNonRoot") is True)
    check("pod seccomp RuntimeDefault", psc.get("seccompProfile", {}).get("type") == "RuntimeDefault")
    for k in ("runAsUser", "runAsGroup"):
        v = csc.get(k)
        check(f"container {k} is the number 65532", isinstance(v, int) and not isinstance(v, bool) and v == 65532, repr(v))
    check("container runAsNonRoot", csc.get("runAsNonRoot") is True)
    check("readOnlyRootFilesystem", csc.get("readOnlyRootFilesystem") is True)
    check("allowPrivilegeEscalation false", csc.get("allowPrivilegeEscalation") is False)
    check("capabilities drop ALL", csc.get("capabilities", {}).get("drop") == ["ALL"] and not csc.get("capabilities", {}).get("add"))
    check("container seccomp RuntimeDefault", csc.get("seccompProfile", {}).get("type") == "RuntimeDefault")
    check("no privileged, hostNetwork, hostPID", not csc.get("privileged") and not pod.get("hostNetwork") and not pod.get("hostPID"))

    sel = spec.get("selector", {}).get("matchLabels", {})
    labels = spec.get("template", {}).get("metadata", {}).get("labels", {})
    check("selector matches pod labels", sel and all(labels.get(k) == v for k, v in sel.items()), f"{sel} vs {labels}")

    sa_name = pod.get("serviceAccountName")
    sas = by_kind(docs, "ServiceAccount")
    check("the pod's ServiceAccount is rendered", any(s["metadata"]["name"] == sa_name for s in sas), sa_name)

    for d in docs:
        if d.get("kind") in ("ClusterRole", "ClusterRoleBinding"):
            check(f"{d['kind']} has no namespace", "namespace" not in d.get("metadata", {}))
        elif d.get("kind") == "ConfigMap":
            pass
        else:
            check(f"{d.get('kind')} {d['metadata'].get('name')} in the release namespace", d["metadata"].get("namespace") == ns, str(d["metadata"].get("namespace")))

    team = [d for d in by_kind(docs, "ClusterRole") if d["metadata"]["name"].endswith(("-view", "-edit"))]
    operator_roles = [d for d in by_kind(docs, "ClusterRole") if d not in team]
    check("exactly one ClusterRole for the operator", len(operator_roles) == 1, f"found {len(operator_roles)}")
    cr = operator_roles[0] if operator_roles else {}
    team_roles(team, expect.get("team_roles", "aggregated"))
    for b in by_kind(docs, "ClusterRoleBinding") + by_kind(docs, "RoleBinding"):
        check(f"{b['kind']} {b['metadata']['name']} binds no team role", b.get("roleRef", {}).get("name") not in [t["metadata"]["name"] for t in team])
    rules = flatten_rules(cr.get("rules", []))
    want = dict(CLUSTER_RULES)
    if expect.get("karpenter"):
        want.update(KARPENTER_RULES)
    check("ClusterRole is exactly the least-privilege set" + (" with NodePools" if expect.get("karpenter") else ", no NodePools"), rules == want,
          f"extra: { {k: v for k, v in rules.items() if want.get(k) != v} }, missing: {[k for k in want if k not in rules]}")
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    check("QO_KARPENTER_NODEPOOLS iff karpenter.nodePools", (env.get("QO_KARPENTER_NODEPOOLS") == "true") == bool(expect.get("karpenter")), str(env.get("QO_KARPENTER_NODEPOOLS")))
    check("ClusterRole: no secrets", not any(res.startswith("secrets") for _, res in rules), str(rules))
    check("ClusterRole: writes only status subresources and events",
          all(res.endswith("/status") or res == "events" for (g, res), verbs in rules.items() if verbs - {"get", "list", "watch"}))
    crb = one(docs, "ClusterRoleBinding")
    check("ClusterRoleBinding binds the ClusterRole to the ServiceAccount",
          crb.get("roleRef", {}).get("name") == cr["metadata"]["name"]
          and crb.get("subjects") == [{"kind": "ServiceAccount", "name": sa_name, "namespace": ns}], str(crb.get("subjects")))

    roles = by_kind(docs, "Role")
    if expect["leader_election"]:
        check("one Role (leases)", len(roles) == 1, str(len(roles)))
        if roles:
            rr = flatten_rules(roles[0].get("rules", []))
            check("Role: leases get/list/watch/create/update/patch, nothing else", rr == {("coordination.k8s.io", "leases"): LEASE_VERBS}, str(rr))
            rb = one(docs, "RoleBinding")
            check("RoleBinding binds the Role to the ServiceAccount",
                  rb.get("roleRef", {}).get("name") == roles[0]["metadata"]["name"]
                  and rb.get("subjects") == [{"kind": "ServiceAccount", "name": sa_name, "namespace": ns}])
    else:
        check("no lease Role without leader election", not roles and not by_kind(docs, "RoleBinding"))

    pdbs = by_kind(docs, "PodDisruptionBudget")
    if expect["pdb"] is None:
        check("no PodDisruptionBudget", not pdbs, str(len(pdbs)))
    else:
        check("one PodDisruptionBudget", len(pdbs) == 1)
        if pdbs:
            check("PDB minAvailable", pdbs[0]["spec"].get("minAvailable") == expect["pdb"], str(pdbs[0]["spec"]))
            check("PDB selects the pods", pdbs[0]["spec"].get("selector", {}).get("matchLabels") == sel)

    svc = one(docs, "Service")
    sp = (svc.get("spec", {}).get("ports") or [{}])[0]
    check("Service targets the http port", sp.get("targetPort") == "http" and sp.get("name") == "http-metrics" and sp.get("port") == expect["port"], str(sp))
    check("Service selects the pods", svc.get("spec", {}).get("selector") == sel)
    return dep, pod, c, sa_name, svc


def mode_default(docs, ns):
    common(docs, ns, dict(replicas=2, strategy="RollingUpdate", leader_election=True, lease="quota-operator-leader",
                          probe_addr="0.0.0.0:8080", log_format="json", port=8080, pdb=1))
    dep = one(docs, "Deployment")
    image = dep["spec"]["template"]["spec"]["containers"][0].get("image")
    check("default image is localhost/quota-operator:<appVersion> (what tools/image.sh builds; no published name)",
          str(image).startswith("localhost/quota-operator:") and len(str(image)) > len("localhost/quota-operator:"), str(image))
    ru = dep["spec"]["strategy"].get("rollingUpdate", {})
    check("rollingUpdate maxSurge 1 maxUnavailable 0", ru == {"maxSurge": 1, "maxUnavailable": 0}, str(ru))
    aff = dep["spec"]["template"]["spec"].get("affinity", {})
    check("default soft anti-affinity by hostname", "preferredDuringSchedulingIgnoredDuringExecution" in aff.get("podAntiAffinity", {}), str(aff))
    for kind in ("ServiceMonitor", "PrometheusRule", "NetworkPolicy", "ConfigMap"):
        check(f"no {kind} by default", not by_kind(docs, kind))
    sa = one(docs, "ServiceAccount")
    check("no ServiceAccount annotations by default", not sa["metadata"].get("annotations"))
    pod = dep["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0].get("env", [])}
    check("shutdown grace 10s inside the pod's 30s", pod.get("terminationGracePeriodSeconds") == 30 and env.get("QO_SHUTDOWN_GRACE_SECONDS") == "20", str(env.get("QO_SHUTDOWN_GRACE_SECONDS")))


def mode_all_on(docs, ns):
    dep, pod, c, sa_name, svc = common(docs, ns, dict(replicas=3, strategy="RollingUpdate", leader_election=True, lease="qo-leader",
                                                  probe_addr="[::]:9090", log_format="text", port=9090, pdb=2, karpenter=True))
    check("image by digest", c.get("image", "").endswith("@sha256:" + "0123456789abcdef" * 4), c.get("image"))
    check("ServiceAccount name from values", sa_name == "quota-operator-controller", sa_name)
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    check("env from values", env.get("QO_NAMESPACE") == "team-batch" and env.get("HTTPS_PROXY") and env.get("QO_AWS_ENDPOINT_URL", "").startswith("https://vpce-"), str(env))
    check("extraArgs appended", c["args"][-2:] == ["--concurrency", "8"], str(c["args"]))
    check("a grace period under 10s leaves the reconciles 1s", pod.get("terminationGracePeriodSeconds") == 5 and env.get("QO_SHUTDOWN_GRACE_SECONDS") == "1", str(env.get("QO_SHUTDOWN_GRACE_SECONDS")))
    sa = one(docs, "ServiceAccount")
    ann = sa["metadata"].get("annotations", {})
    check("IRSA and GKE annotations", ann.get("eks.amazonaws.com/role-arn") and ann.get("iam.gke.io/gcp-service-account"), str(ann))

    sm = one(docs, "ServiceMonitor")
    check("ServiceMonitor apiVersion", sm.get("apiVersion") == "monitoring.coreos.com/v1")
    ep = (sm.get("spec", {}).get("endpoints") or [{}])[0]
    check("ServiceMonitor scrapes /metrics on the Service port", ep.get("port") == svc["spec"]["ports"][0]["name"] and ep.get("path") == "/metrics" and ep.get("interval") == "15s", str(ep))
    check("ServiceMonitor selects the Service", all(svc["metadata"]["labels"].get(k) == v for k, v in sm["spec"]["selector"]["matchLabels"].items()))
    check("ServiceMonitor labels", sm["metadata"]["labels"].get("release") == "kube-prometheus-stack")

    np = one(docs, "NetworkPolicy")
    nps = np.get("spec", {})
    check("NetworkPolicy selects the pods", nps.get("podSelector", {}).get("matchLabels") == dep["spec"]["selector"]["matchLabels"])
    check("NetworkPolicy both directions", sorted(nps.get("policyTypes", [])) == ["Egress", "Ingress"])
    ports = [(p.get("port"), p.get("protocol")) for e in nps.get("egress", []) for p in e.get("ports", [])]
    check("egress DNS udp+tcp", (53, "UDP") in ports and (53, "TCP") in ports, str(ports))
    check("egress HTTPS 443", (443, "TCP") in ports, str(ports))
    cidrs = [t.get("ipBlock", {}).get("cidr") for e in nps.get("egress", []) for t in e.get("to", [])
             if not any(p.get("port") == 80 for p in e.get("ports", []))]
    check("egress to the API server CIDRs", cidrs == ["172.20.0.0/16", "2001:db8::/64"], str(cidrs))
    agents_exactly(np, GKE_METADATA, "GKE's metadata server (the iam.gke.io annotation), not Pod Identity's agent")
    ing = nps.get("ingress", [{}])[0]
    monitoring = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    check("ingress to the metrics port from monitoring only", ing.get("ports") == [{"port": "http", "protocol": "TCP"}] and ing.get("from") == monitoring, str(ing))

    cm = one(docs, "ConfigMap")
    check("dashboard ConfigMap labelled for the Grafana sidecar", cm["metadata"].get("labels", {}).get("grafana_dashboard") == "1", str(cm["metadata"].get("labels")))
    check("dashboard ConfigMap namespace", cm["metadata"].get("namespace") == "monitoring")
    try:
        d = json.loads(cm["data"]["quota-operator.json"])
        check("dashboard JSON in the ConfigMap", d.get("uid") == "quota-operator" and len(d.get("panels", [])) > 10)
    except Exception as e:  # noqa: BLE001
        check("dashboard JSON in the ConfigMap", False, str(e))


def mode_karpenter(docs, ns):
    common(docs, ns, dict(replicas=2, strategy="RollingUpdate", leader_election=True, lease="quota-operator-leader",
                          probe_addr="0.0.0.0:8080", log_format="json", port=8080, pdb=1, karpenter=True))


def mode_no_le(docs, ns):
    common(docs, ns, dict(replicas=1, strategy="Recreate", leader_election=False, lease=None,
                          probe_addr="0.0.0.0:8080", log_format="json", port=8080, pdb=None, team_roles="plain"))
    dep = one(docs, "Deployment")
    check("Recreate has no rollingUpdate", "rollingUpdate" not in dep["spec"]["strategy"])


# The node-local credential agents the policy may reach on port 80, and nothing else there.
GKE_METADATA = ["169.254.169.254/32"]
EKS_POD_IDENTITY = ["169.254.170.23/32", "fd00:ec2::23/128"]
# EC2's instance metadata endpoint (the node's IAM role) is the same address as GKE's server.
INSTANCE_METADATA = ipaddress.ip_address("169.254.169.254")


def port_80_cidrs(np):
    """The CIDRs egress rules allow on port 80 (None for a rule on 80 without `to`)."""
    out = []
    for e in np.get("spec", {}).get("egress", []):
        if any(p.get("port") == 80 for p in e.get("ports", [])):
            out += [t.get("ipBlock", {}).get("cidr") for t in e.get("to", [])] or [None]
    return out


def reaches_instance_metadata(np):
    """Egress rules whose destinations include 169.254.169.254 on port 80 (any `to`-less rule
    on 80, or an ipBlock holding the address), or on every port (a rule without ports)."""
    out = []
    for e in np.get("spec", {}).get("egress", []):
        ports = [p.get("port") for p in e.get("ports", [])]
        if ports and 80 not in ports:
            continue
        blocks = [t.get("ipBlock") for t in e.get("to", [])]
        if not blocks or any(b and INSTANCE_METADATA in ipaddress.ip_network(b["cidr"])
                             and not any(INSTANCE_METADATA in ipaddress.ip_network(x) for x in b.get("except", []))
                             for b in blocks):
            out.append(e)
    return out


def agents_exactly(np, want, what):
    got = port_80_cidrs(np)
    check(f"port 80 egress to {what}, exactly", sorted(str(c) for c in got) == sorted(want), str(got))
    for e in np.get("spec", {}).get("egress", []):
        if any(p.get("port") == 80 for p in e.get("ports", [])):
            check("port 80 rules allow TCP 80 only", e.get("ports") == [{"port": 80, "protocol": "TCP"}], str(e))
    check("every egress rule names its ports", all(e.get("ports") for e in np.get("spec", {}).get("egress", [])))
    opened = GKE_METADATA[0] in want
    check(f"169.254.169.254 (EC2 instance metadata on EKS) {'reachable' if opened else 'unreachable'}",
          bool(reaches_instance_metadata(np)) == opened, str(reaches_instance_metadata(np)))


def mode_netpol(docs, ns):
    """networkPolicy.enabled with every other networkPolicy value at its default."""
    np = one(docs, "NetworkPolicy")
    ing = np.get("spec", {}).get("ingress", [])
    check("metrics ingress is the one ingress rule", len(ing) == 1, str(ing))
    check("metrics only from the release's namespace by default", ing and ing[0].get("from") == [{"podSelector": {}}], str(ing))
    check("no cluster-wide metrics source by default", not any("namespaceSelector" in f or "ipBlock" in f for r in ing for f in r.get("from", [])), str(ing))
    agents_exactly(np, [], "no credential agent by default")


def netpol_agents(want, what):
    return lambda docs, ns: agents_exactly(one(docs, "NetworkPolicy"), want, what)


def mode_no_team_roles(docs, ns):
    common(docs, ns, dict(replicas=2, strategy="RollingUpdate", leader_election=True, lease="quota-operator-leader",
                          probe_addr="0.0.0.0:8080", log_format="json", port=8080, pdb=1, team_roles="none"))


# The chart's own alerts; the first three are per quota.
ALERTS = ["QuotaNearLimit", "QuotaExhaustionForecast", "QuotaRequestOpenTooLong", "QuotaOperatorDown", "QuotaOperatorNoLeader"]
QUOTA_ALERTS = ALERTS[:3]
# What each rendering's rules select the operator's series by: the ServiceMonitor's job and
# namespace by default, ci/all-on-values.yaml's prometheusRule.selector there.
RULE_SELECTORS = {
    "default": '{job="qo-quota-operator", namespace="quota-system"}',
    "all-on": '{job="quota-operator", kubernetes_namespace="ops"}',
}


def mode_prometheusrule(name, ns, rules_out, docs):
    """The PrometheusRule's shape; its spec's groups are written to RULES_OUT for promtool."""
    import re
    pr = one(docs, "PrometheusRule")
    meta = pr.get("metadata", {})
    check("PrometheusRule apiVersion monitoring.coreos.com/v1", pr.get("apiVersion") == "monitoring.coreos.com/v1", str(pr.get("apiVersion")))
    check("PrometheusRule in the release namespace", meta.get("namespace") == ns, str(meta.get("namespace")))
    groups = pr.get("spec", {}).get("groups", [])
    rules = [r for g in groups for r in g.get("rules", [])]
    alerts = {r["alert"]: r for r in rules if "alert" in r}
    check("the five alerts, once each", sorted(a for a in alerts if a in ALERTS) == sorted(ALERTS)
          and len([r for r in rules if r.get("alert") in ALERTS]) == len(ALERTS), str([r.get("alert") for r in rules]))
    for a in ALERTS:
        r = alerts.get(a, {})
        ann = r.get("annotations", {})
        check(f"{a} has a severity label, a for, a summary and a description",
              r.get("labels", {}).get("severity") and r.get("for") and ann.get("summary") and ann.get("description"), str(r))
        if a in QUOTA_ALERTS:
            for k in ("summary", "description"):
                check(f"{a}'s {k} names the account, region and quota",
                      all("{{ $labels.%s }}" % l in ann.get(k, "") for l in ("account", "region", "quota")), ann.get(k))
        # Every series the alert reads carries the release's selector, and nothing else.
        series = re.findall(r"\b(up|quota_operator_[a-z_]+)(\{[^}]*\})?", r.get("expr", ""))
        want = RULE_SELECTORS[name]
        check(f"{a} selects the operator's series by {want}", series and all(m == want for _, m in series), str(series))
    if name == "default":
        check("default: only the chart's labels", set(meta.get("labels", {})) <= {
            "helm.sh/chart", "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
            "app.kubernetes.io/managed-by", "app.kubernetes.io/part-of"}, str(meta.get("labels")))
        check("default: no extra rules", len(rules) == len(ALERTS), str(len(rules)))
    if name == "all-on":
        check("all-on: labels for the Prometheus's ruleSelector", meta.get("labels", {}).get("release") == "kube-prometheus-stack", str(meta.get("labels")))
        check("all-on: annotations", meta.get("annotations", {}).get("team") == "platform", str(meta.get("annotations")))
        extra = [r.get("alert") or r.get("record") for r in rules if r.get("alert") not in ALERTS]
        check("all-on: additionalRules appended, templates left to Prometheus",
              extra == ["quota_operator:quota_headroom:min", "QuotaUsageAboveDesired"]
              and "{{ $labels.quota }}" in alerts.get("QuotaUsageAboveDesired", {}).get("annotations", {}).get("summary", ""), str(extra))
    with open(rules_out, "w") as f:
        yaml.safe_dump({"groups": groups}, f, sort_keys=False)


# Every metric the dashboard must chart (issue 8's list).
DASHBOARD_METRICS = [
    "controller_runtime_reconcile_total", "controller_runtime_reconcile_errors_total",
    "controller_runtime_reconcile_time_seconds_bucket", "workqueue_depth",
    "quota_operator_quota_current_value", "quota_operator_quota_desired_value", "quota_operator_targets",
    "quota_operator_open_requests", "quota_operator_open_request_age_seconds",
    "quota_operator_request_duration_seconds_bucket", "quota_operator_cloud_api_calls_total",
    "quota_operator_cloud_api_errors_total", "quota_operator_cloud_api_throttles_total", "quota_operator_leader",
    # Usage (issue 18).
    "quota_operator_quota_usage", "quota_operator_quota_usage_peak", "quota_operator_quota_utilization_ratio",
    "quota_operator_quota_exhaustion_forecast_seconds", "quota_operator_account_utilization_threshold_ratio",
]


def mode_dashboard(path, rules_out):
    import re
    with open(path) as f:
        d = json.load(f)
    panels = d.get("panels", [])
    ids = [p.get("id") for p in panels]
    check("dashboard panel ids unique", len(ids) == len(set(ids)), str(ids))
    exprs = [t["expr"] for p in panels for t in p.get("targets", [])]
    for p in panels:
        if p.get("type") != "row":
            check(f"panel '{p.get('title')}' uses the datasource variable", p.get("datasource", {}).get("uid") == "${datasource}" and p.get("targets"))
            check(f"panel '{p.get('title')}' has a gridPos", {"h", "w", "x", "y"} <= set(p.get("gridPos", {})))
    for m in DASHBOARD_METRICS:
        check(f"dashboard charts {m}", any(re.search(r"\b" + m + r"\b", e) for e in exprs))
    names = {v["name"] for v in d.get("templating", {}).get("list", [])}
    used = set(re.findall(r"\$(\w+)", " ".join(exprs))) - {"__rate_interval"}
    check("dashboard variables are defined", used <= names, f"{used - names}")
    # A rules file so promtool can parse every expression (Grafana variables substituted).
    rules = []
    for i, e in enumerate(exprs):
        e = e.replace("$__rate_interval", "5m").replace("$namespace", ".*").replace("$account", ".*")
        rules.append({"record": f"dashboard:expr_{i}", "expr": e})
    with open(rules_out, "w") as f:
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, f)


def mode_readme(readme, chart):
    """README's argocd-cm snippet must be the tested health scripts, byte for byte."""
    with open(readme) as f:
        text = f.read()
    start = text.index("```yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm")
    block = text[text.index("\n", start) + 1:text.index("\n```", start) + 1]
    cm = yaml.safe_load(block)
    for kind in ("QuotaRequirement", "CloudAccount"):
        key = f"resource.customizations.health.quota-operator.dev_{kind}"
        with open(f"{chart}/health/quota-operator.dev_{kind}.lua") as f:
            want = f.read()
        check(f"README's argocd-cm {kind} script is health/quota-operator.dev_{kind}.lua", cm.get("data", {}).get(key) == want)


def main():
    mode = sys.argv[1]
    if mode == "dashboard":
        mode_dashboard(sys.argv[2], sys.argv[3])
    elif mode == "readme":
        mode_readme(sys.argv[2], sys.argv[3])
    elif mode == "prometheusrule":
        docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
        mode_prometheusrule(sys.argv[2], sys.argv[3], sys.argv[4], docs)
        mode = f"prometheusrule {sys.argv[2]}"
    else:
        ns = sys.argv[2]
        docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
        {"default": mode_default, "all-on": mode_all_on, "no-le": mode_no_le, "karpenter": mode_karpenter, "netpol": mode_netpol,
         "netpol-irsa": netpol_agents([], "no credential agent with IRSA"),
         "netpol-pod-identity": netpol_agents(EKS_POD_IDENTITY, "the EKS Pod Identity agent only"),
         "netpol-gke": netpol_agents(GKE_METADATA, "GKE's metadata server only"),
         "netpol-gke-annotation": netpol_agents(GKE_METADATA, "GKE's metadata server only, for the annotation"),
         "netpol-both": netpol_agents(GKE_METADATA + EKS_POD_IDENTITY, "both agents, both asked for"),
         "no-team-roles": mode_no_team_roles}[mode](docs, ns)
    for name, ok, why in results:
        print(f"ok   {mode}: {name}" if ok else f"FAIL {mode}: {name}: {why}")


if __name__ == "__main__":
    main()

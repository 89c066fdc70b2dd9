"""The few Kubernetes API calls the benchmark makes, with nothing but the standard library (plus
PyYAML for the kubeconfig), and a watch that keeps every QuotaRequirement's state in memory.

Polling `kubectl get qr -A -o json` every second would cost the machine more than the operator
does at 10,000 objects (a full list is tens of MB of JSON), and the two share 2 cores; a watch
sends only what changed, so the measurement stays out of the way of what it measures.
"""
import base64
import http.client
import json
import re
import ssl
import threading
import time
import urllib.parse

import yaml

GROUP = "/apis/quota-operator.dev/v1alpha1"
MOVING = {"Requested", "Queued", "Error"}


class Kube:
    def __init__(self, kubeconfig):
        with open(kubeconfig) as f:
            cfg = yaml.safe_load(f)
        cluster = cfg["clusters"][0]["cluster"]
        url = urllib.parse.urlparse(cluster["server"])
        self.host, self.port = url.hostname, url.port
        ca = base64.b64decode(cluster["certificate-authority-data"]).decode()
        self.ssl = ssl.create_default_context(cadata=ca)
        self.token = cfg["users"][0]["user"]["token"]
        self.local = threading.local()

    def connect(self, timeout=60):
        return http.client.HTTPSConnection(self.host, self.port, context=self.ssl, timeout=timeout)

    def headers(self, content_type="application/json"):
        return {"Authorization": f"Bearer {self.token}", "Content-Type": content_type, "Accept": "application/json"}

    def request(self, method, path, body=None, content_type="application/json"):
        """One call on this thread's keep-alive connection; (status, parsed JSON or text)."""
        data = None if body is None else (body if isinstance(body, (bytes, str)) else json.dumps(body))
        for attempt in range(3):
            conn = getattr(self.local, "conn", None) or self.connect()
            self.local.conn = conn
            try:
                conn.request(method, path, body=data, headers=self.headers(content_type))
                resp = conn.getresponse()
                raw = resp.read()
                break
            except (http.client.HTTPException, OSError):
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    raise
                time.sleep(0.2)
        text = raw.decode()
        try:
            return resp.status, json.loads(text)
        except ValueError:
            return resp.status, text

    def must(self, method, path, body=None, ok=(200, 201), content_type="application/json"):
        status, out = self.request(method, path, body, content_type)
        if status not in ok:
            raise RuntimeError(f"{method} {path}: HTTP {status}: {str(out)[:400]}")
        return out

    def apply(self, path, obj):
        """Server-side apply of one object (create or update)."""
        q = "?fieldManager=quota-operator-bench&force=true"
        return self.must("PATCH", path + q, json.dumps(obj), content_type="application/apply-patch+yaml")

    def status_writes(self):
        """Writes to quotarequirements/status the API server has received (its own counter, so
        no-op patches count too): what the operator asked of the API server, not what changed."""
        by = self.status_writes_by()
        return None if by is None else sum(by.values())

    def status_writes_by(self):
        """The same writes by verb and answer code: {("PUT", "200"): n, ("PATCH", "409"): n}."""
        status, text = self.request("GET", "/metrics")
        if status != 200:
            return None
        by = {}
        for line in text.splitlines():
            if not (line.startswith("apiserver_request_total{") and 'resource="quotarequirements"' in line
                    and 'subresource="status"' in line):
                continue
            labels = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}", 1)[0]))
            if labels.get("verb") in ("PATCH", "PUT", "APPLY", "UPDATE"):
                key = (labels["verb"], labels.get("code", "?"))
                by[key] = by.get(key, 0) + int(float(line.rsplit(" ", 1)[1]))
        return by


def settled(obj):
    """Every region judged for the current generation and none still moving."""
    status = obj.get("status") or {}
    targets = status.get("targets") or []
    return (bool(targets) and status.get("observedGeneration") == obj["metadata"].get("generation")
            and all(t.get("state") not in MOVING for t in targets))


class Tracker(threading.Thread):
    """Every QuotaRequirement in the cluster (list, then watch): whether it has settled, when its
    status first appeared, and how many times any object changed (MODIFIED events)."""

    def __init__(self, kube):
        super().__init__(daemon=True)
        self.kube = kube
        self.cond = threading.Condition()
        self.settled = {}
        # How many values of `settled` are True, kept as events come: counting them on every
        # event made this watcher's CPU (taken from the 2 cores it measures) grow with N squared.
        self.settled_count = 0
        self.first_status = {}
        # When each object was first seen settled (monotonic seconds).
        self.settled_at = {}
        self.states = {}
        self.modified = 0
        self.relists = 0
        self.stop = False

    def _see(self, obj, event="ADDED"):
        meta = obj["metadata"]
        key = f"{meta['namespace']}/{meta['name']}"
        with self.cond:
            self.settled_count -= self.settled.pop(key, False)
            if event != "DELETED":
                now = self.settled[key] = settled(obj)
                self.settled_count += now
                if now and key not in self.settled_at:
                    self.settled_at[key] = time.monotonic()
                targets = (obj.get("status") or {}).get("targets") or []
                self.states[key] = [t.get("state") for t in targets]
                if targets and key not in self.first_status:
                    self.first_status[key] = time.monotonic()
                if event == "MODIFIED":
                    self.modified += 1
            self.cond.notify_all()

    def _list(self):
        cont, rv = "", None
        while True:
            q = urllib.parse.urlencode({"limit": 500, **({"continue": cont} if cont else {})})
            out = self.kube.must("GET", f"{GROUP}/quotarequirements?{q}")
            for obj in out["items"]:
                self._see(obj)
            rv = out["metadata"]["resourceVersion"]
            cont = out["metadata"].get("continue")
            if not cont:
                return rv

    def run(self):
        rv = self._list()
        while not self.stop:
            conn = self.kube.connect(timeout=3700)
            try:
                q = urllib.parse.urlencode({"watch": 1, "resourceVersion": rv, "timeoutSeconds": 3600})
                conn.request("GET", f"{GROUP}/quotarequirements?{q}", headers=self.kube.headers())
                resp = conn.getresponse()
                if resp.status != 200:
                    raise RuntimeError(f"watch: HTTP {resp.status}")
                while not self.stop:
                    line = resp.readline()
                    if not line:
                        break
                    ev = json.loads(line)
                    if ev["type"] == "ERROR":
                        raise RuntimeError(ev["object"].get("message"))
                    self._see(ev["object"], ev["type"])
                    rv = ev["object"]["metadata"]["resourceVersion"]
            except (OSError, RuntimeError, http.client.HTTPException, ValueError):
                if self.stop:
                    return
                # A watch that expired or broke: list again (changes in between go uncounted).
                with self.cond:
                    self.relists += 1
                time.sleep(0.5)
                rv = self._list()
            finally:
                conn.close()

    def count_settled(self, prefix=""):
        with self.cond:
            if not prefix:
                return self.settled_count
            return sum(1 for k, v in self.settled.items() if v and k.startswith(prefix))

    def wait(self, predicate, timeout):
        """Waits until predicate(self) holds (checked on every change); False on time-out."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 1.0))
            return True

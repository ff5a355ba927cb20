"""The Grafana dashboard's queries, for tests/grafana_dashboard_test.sh.

Usage: grafana_queries.py DASHBOARD.json check|rules|exprs
  check  the dashboard's shape: every panel and query on ${DS_PROMETHEUS}, the cluster, node and
         team variables, unique panel ids, the panels the docs promise; prints what is wrong
  rules  every query as a recording rule (Grafana's variables replaced), for promtool check rules
  exprs  every query, one JSON object a line: {"panel": title, "legend": …, "expr": …}

Grafana's variables are replaced as a dashboard showing every cluster, node and team over the
last hour would: $cluster, $node, $team -> .*, $__range -> 1h, $__range_s -> 3600,
$gpu_hour_usd -> 2.5.
"""
import json
import sys

SUBSTITUTIONS = [("$__range_s", "3600"), ("$__range", "1h"), ("$cluster", ".*"), ("$node", ".*"),
                 ("$team", ".*"), ("$gpu_hour_usd", "2.5")]
PROMISED_PANELS = ["Fleet idle share", "Held-idle GPUs", "GPUs no pod holds", "Kills in range",
                   "GPUs freed in range", "Guards up", "Spend rate by team",
                   "Spend by team over the range", "Guard actions per hour",
                   "What the kills and releases freed, per hour", "Kept now",
                   "Seconds since the last sample", "Ledger writes queued", "Failures per hour",
                   "Guard versions"]
DATASOURCE = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}


def substitute(expr):
    for name, value in SUBSTITUTIONS:
        expr = expr.replace(name, value)
    return expr


def queries(dashboard):
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield panel, target


def check(dashboard):
    problems = []
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    for name in ("DS_PROMETHEUS", "cluster", "node", "team", "gpu_hour_usd"):
        if name not in variables:
            problems.append(f"no variable {name}")
    for name in ("cluster", "node", "team"):
        if name in variables and variables[name].get("datasource") != DATASOURCE:
            problems.append(f"variable {name} is not on ${{DS_PROMETHEUS}}")
    ids = [p["id"] for p in dashboard["panels"]]
    if len(ids) != len(set(ids)):
        problems.append("panel ids repeat")
    titles = {p["title"] for p in dashboard["panels"]}
    problems += [f"no panel '{t}'" for t in PROMISED_PANELS if t not in titles]
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            continue
        if panel.get("datasource") != DATASOURCE:
            problems.append(f"panel '{panel['title']}' is not on ${{DS_PROMETHEUS}}")
        if not panel.get("targets"):
            problems.append(f"panel '{panel['title']}' has no query")
    for panel, target in queries(dashboard):
        if target.get("datasource") != DATASOURCE:
            problems.append(f"a query of '{panel['title']}' is not on ${{DS_PROMETHEUS}}")
        if "$" in substitute(target["expr"]).replace("{{", ""):
            problems.append(f"a query of '{panel['title']}' uses an unknown variable")
    return problems


def main():
    dashboard = json.load(open(sys.argv[1]))
    mode = sys.argv[2]
    if mode == "check":
        problems = check(dashboard)
        for p in problems:
            print(p)
        sys.exit(1 if problems else 0)
    if mode == "rules":
        print("groups:\n  - name: dashboard\n    rules:")
        for i, (panel, target) in enumerate(queries(dashboard)):
            print(f"      # {panel['title']}")
            print(f"      - record: dashboard:query_{i}:expr")
            print(f"        expr: {json.dumps(substitute(target['expr']))}")
    elif mode == "exprs":
        for panel, target in queries(dashboard):
            print(json.dumps({"panel": panel["title"], "legend": target.get("legendFormat", ""),
                              "expr": substitute(target["expr"])}))
    else:
        sys.exit(f"unknown mode {mode}")


main()

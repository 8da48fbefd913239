#!/usr/bin/env bash
# Checks that an app on SQLite alone compiles no PostgreSQL driver: the targets the SQLite-only
# example (ClientQuickstart) is built from, and the products they use, include neither
# SuitePostgres nor PostgresNIO nor any swift-nio product. Reads the package graph
# (`swift package describe`), so it takes a second and builds nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
swift package describe --type json | python3 -c '
import json, sys
graph = {t["name"]: t for t in json.load(sys.stdin)["targets"]}
seen, products, stack = set(), set(), ["ClientQuickstart"]
while stack:
    name = stack.pop()
    if name in seen:
        continue
    seen.add(name)
    stack += graph[name].get("target_dependencies", [])
    products.update(graph[name].get("product_dependencies", []))
banned = sorted(n for n in seen | products if n == "SuitePostgres" or n.startswith("NIO") or "Postgres" in n)
print("ClientQuickstart is built from: " + ", ".join(sorted(seen)))
print("and the products: " + ", ".join(sorted(products)))
if banned:
    sys.exit("error: the SQLite-only example would compile " + ", ".join(banned))
print("no PostgreSQL driver, no PostgresNIO, no NIO")
'

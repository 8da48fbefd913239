#!/usr/bin/env python3
"""Fails if a public symbol of a library module has no `///` line.

Reads every Swift file under Sources/ except the `dock` executable and lists each public or open
declaration, public enum case and public protocol requirement whose line above (attributes
skipped) is neither a `///` line nor the end of a `/** */` block. Prints the count, then one
`file:line: declaration` per miss; exits 1 if there is any. Run by scripts/test.sh.
"""
import glob
import os
import re
import sys

os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

DECLARATION = re.compile(r"^(@\w+(\([^)]*\))?\s+)*(public|open)\s")
CONTAINER = re.compile(r"^(@\w+\s+)*(public|open)\s+(indirect\s+)?(enum|protocol)\s")
REQUIREMENT = re.compile(r"^(func|var|associatedtype|static func|static var|init|mutating func)\b")


def documented(lines, index):
    above = index - 1
    while above >= 0 and lines[above].strip().startswith("@"):
        above -= 1
    text = lines[above].strip() if above >= 0 else ""
    return text.startswith("///") or text.endswith("*/")


misses = []
for path in sorted(glob.glob("Sources/**/*.swift", recursive=True)):
    if path.startswith("Sources/dock/"):
        continue
    lines = open(path, encoding="utf-8").read().split("\n")
    stack, depth = [], 0
    for index, line in enumerate(lines):
        text = line.strip()
        head = text.split("{")[0].split()
        is_extension = "extension" in head[:3]
        if DECLARATION.match(text) and not text.startswith("public import") and not is_extension:
            if not documented(lines, index):
                misses.append(f"{path}:{index + 1}: {text[:100]}")
        elif stack and depth == stack[-1][1] + 1:
            kind = stack[-1][0]
            member = (kind == "enum" and text.startswith("case ")) or (kind == "protocol" and REQUIREMENT.match(text))
            if member and not documented(lines, index):
                misses.append(f"{path}:{index + 1}: {text[:100]}")
        container = CONTAINER.match(text)
        if container:
            stack.append((container.group(4), depth))
        depth += line.count("{") - line.count("}")
        while stack and depth <= stack[-1][1] and "}" in line:
            stack.pop()

print(f"{len(misses)} public symbols without a /// line")
for miss in misses:
    print(miss)
sys.exit(1 if misses else 0)

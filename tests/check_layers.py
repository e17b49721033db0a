#!/usr/bin/python3
"""Checks that every #include of the C sources follows the layer rules of
docs/DESIGN.md ("What may include what"): the table there is read, not
copied, so the document and this check cannot disagree.

Each row names a folder (`state/`) or one file (`server/routes.c`) and what
it may include: folders, single headers, `nothing` or `anything`. A file's
row adds to its folder's row. A file may always include the headers of its
own folder and system headers (<...>). A C file in a folder without a row
fails too: a new folder is placed in the layers when it is made.

Usage: check_layers.py [--root DIR] [--design FILE]
  --root    the source tree to check (default: this repository)
  --design  the document holding the rules (default: ROOT/docs/DESIGN.md)
Exits 0 and prints "1 passed, 0 failed" when every include is allowed;
otherwise prints each one that is not and "0 passed, 1 failed", exit 1.
Standard library only.
"""

import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADING = "### What may include what"
INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]+"([^"]+)"', re.M)
SKIP_DIRS = {".git", "node_modules"}


def read_rules(design):
    """{path: set of what it may include} from the table under HEADING."""
    with open(design, encoding="utf-8") as f:
        text = f.read()
    at = text.find(HEADING)
    if at < 0:
        raise SystemExit(f"{design}: no section '{HEADING}'")
    rules = {}
    for line in text[at:].splitlines()[1:]:
        if line.startswith("#"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].startswith("`"):
            continue
        who = cells[0].strip("`")
        allowed = set(re.findall(r"`([^`]+)`", cells[1]))
        if "anything" in cells[1]:
            allowed.add("*")
        rules[who] = allowed
    if not rules:
        raise SystemExit(f"{design}: the table under '{HEADING}' is empty")
    return rules


def allowed_for(rules, rel):
    """What file `rel` may include, or None when no row covers it."""
    folder = rel.split("/")[0] + "/"
    if folder not in rules:
        return None
    return rules[folder] | rules.get(rel, set())


def resolve(root, rel, name):
    """The repository path an include names: next to the file first, then
    from the root (as the unit tests include "api/body.h")."""
    here = os.path.dirname(rel)
    for base in (here, ""):
        cand = os.path.normpath(os.path.join(base, name))
        if not cand.startswith("..") and os.path.exists(
                os.path.join(root, cand)):
            return cand
    return None


def permitted(target, rel, allowed):
    if "*" in allowed:
        return True
    if os.path.dirname(target) == os.path.dirname(rel):
        return True
    return any(target == a or (a.endswith("/") and target.startswith(a))
               for a in allowed)


def sources(root):
    for top, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs
                         if d not in SKIP_DIRS and not d.startswith("build"))
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                yield os.path.relpath(os.path.join(top, f), root)


def check(root, rules):
    bad = []
    for rel in sources(root):
        if "/" not in rel:
            bad.append(f"{rel}: a C file at the top, in no layer")
            continue
        allowed = allowed_for(rules, rel)
        if allowed is None:
            bad.append(f"{rel}: its folder has no row in the table")
            continue
        with open(os.path.join(root, rel), encoding="utf-8",
                  errors="replace") as f:
            text = f.read()
        for m in INCLUDE.finditer(text):
            target = resolve(root, rel, m.group(1))
            if target is None:
                continue  # generated or system-provided: not ours
            if not permitted(target, rel, allowed):
                line = text.count("\n", 0, m.start()) + 1
                bad.append(f"{rel}:{line}: includes {target}, which "
                           f"{rel.split('/')[0]}/ may not")
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=HERE)
    ap.add_argument("--design")
    args = ap.parse_args()
    design = args.design or os.path.join(args.root, "docs", "DESIGN.md")
    bad = check(args.root, read_rules(design))
    for b in bad:
        print(b)
    if bad:
        print(f"{len(bad)} include(s) against the layers of {design}")
        print("0 passed, 1 failed")
        return 1
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

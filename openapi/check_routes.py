#!/usr/bin/python3
"""Checks that the route table (server/routes.c) and the OpenAPI document
(openapi/openapi.yaml) list exactly the same (method, path) pairs, that
each operation accepts exactly the query parameters the document declares
for it (the route's ROUTE_QUERY_* bits, named by the router_queries table
of server/router.c), and that every path with a PUT, PATCH or DELETE has a
GET (a conditional change compares with what the GET answers).

Standard library only. The route table is read with a small C tokenizer
that expands the table's #define macros (NS, LINK, BR, ...); the document
with a minimal reader of YAML block mappings, enough for the `paths:`
section of a document written in block style (flow mappings, anchors and
multi-line keys are not supported there, and are refused rather than
misread).

Usage: check_routes.py [--routes server/routes.c] [--router server/router.c]
                       [--openapi openapi/openapi.yaml]
Exits 0 and prints "1 passed, 0 failed" when all of these hold; otherwise
prints the differences and "0 passed, 1 failed" and exits 1.
"""

import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class ParseError(Exception):
    pass


# ---------------------------------------------------------------- routes.c

_TOKEN = re.compile(
    r"""
      (?P<directive>^[ \t]*\#[^\n]*(?:\\\n[^\n]*)*)
    | (?P<ws>[ \t\r\f\v]+|\n)
    | (?P<comment>/\*.*?\*/|//[^\n]*)
    | (?P<string>"(?:[^"\\\n]|\\.)*")
    | (?P<char>'(?:[^'\\\n]|\\.)*')
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<number>[0-9][A-Za-z0-9_.]*)
    | (?P<punct>[{}\[\](),;=|&<>+\-*/.!~?:%^])
    """,
    re.VERBOSE | re.DOTALL | re.MULTILINE,
)

_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'", "0": "\0"}


def _unquote(lit):
    body = lit[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


def tokenize(text):
    """Yields (kind, value) for C source, comments and whitespace dropped."""
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            line = text.count("\n", 0, pos) + 1
            raise ParseError(f"cannot read the C source at line {line}")
        kind = m.lastgroup
        if kind not in ("ws", "comment"):
            yield kind, m.group(kind)
        pos = m.end()


def _expand(tokens, macros, where, depth=0):
    """Concatenates a sequence of string literals and macro names."""
    if depth > 16:
        raise ParseError(f"{where}: macros nest too deep")
    out = []
    for kind, value in tokens:
        if kind == "string":
            out.append(_unquote(value))
        elif kind == "ident" and value in macros:
            out.append(_expand(macros[value], macros, where, depth + 1))
        else:
            raise ParseError(f"{where}: cannot evaluate {value!r} as a string")
    return "".join(out)


def _read_c(path):
    """(tokens, macros) of a C file: directives dropped, #defines kept."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    macros = {}
    tokens = []
    for kind, value in tokenize(text):
        if kind == "directive":
            d = re.match(r"\s*#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)(?!\()\s*(.*)",
                         value.replace("\\\n", " "), re.DOTALL)
            if d:
                macros[d.group(1)] = [
                    t for t in tokenize(d.group(2)) if t[0] != "directive"
                ]
            continue
        tokens.append((kind, value))
    return tokens, macros


def _table(path, tokens, name):
    """The entries of `name[] = { {...}, ... };`, each a list of fields,
    each field a list of tokens."""
    for i, (kind, value) in enumerate(tokens):
        if kind == "ident" and value == name:
            break
    else:
        raise ParseError(f"{path}: no {name} table")
    i += 1
    while i < len(tokens) and tokens[i][1] != "{":
        if tokens[i][1] == ";":
            raise ParseError(f"{path}: {name} has no initializer")
        i += 1
    i += 1

    entries = []
    while i < len(tokens):
        kind, value = tokens[i]
        if value == "}":
            break
        if value == ",":
            i += 1
            continue
        if value != "{":
            raise ParseError(f"{path}: unexpected {value!r} in {name}")
        depth, j = 1, i + 1
        fields, cur = [], []
        while depth:
            if j >= len(tokens):
                raise ParseError(f"{path}: unterminated entry of {name}")
            t = tokens[j]
            if t[1] in ("{", "("):
                depth += 1
            elif t[1] in ("}", ")"):
                depth -= 1
            if depth == 1 and t[1] == ",":
                fields.append(cur)
                cur = []
            elif depth:
                cur.append(t)
            j += 1
        fields.append(cur)
        entries.append(fields)
        i = j
    return entries


def _bits(field, where):
    """The identifiers of a flags expression: 0, or A | B | ..."""
    if not field or field == [("number", "0")]:
        return set()
    names = set()
    for n, (kind, value) in enumerate(field):
        if n % 2 == 0 and kind == "ident":
            names.add(value)
        elif n % 2 == 1 and value == "|":
            continue
        else:
            raise ParseError(f"{where}: cannot read {value!r} as flags")
    return names


def parse_queries(path):
    """{ROUTE_QUERY_X: name} from server/router.c's router_queries."""
    tokens, macros = _read_c(path)
    out = {}
    for fields in _table(path, tokens, "router_queries"):
        where = f"{path}: query {len(out) + 1}"
        if len(fields) < 2 or len(fields[1]) != 1 or fields[1][0][0] != "ident":
            raise ParseError(f"{where}: want {{ name, ROUTE_QUERY_X, ... }}")
        out[fields[1][0][1]] = _expand(fields[0], macros, where)
    return out


def parse_routes(path, queries=None):
    """[(METHOD, pattern, {query names})] of server/routes.c."""
    tokens, macros = _read_c(path)
    routes = []
    for fields in _table(path, tokens, "router_routes"):
        # One entry: { method, pattern, handler, flags, query }
        if len(fields) < 2:
            raise ParseError(f"{path}: a route entry without method and path")
        where = f"{path}: route {len(routes) + 1}"
        method = _expand(fields[0], macros, where)
        pattern = _expand(fields[1], macros, where)
        names = set()
        for bit in _bits(fields[4] if len(fields) > 4 else [], where):
            if queries is not None and bit not in queries:
                raise ParseError(f"{where}: {bit} is not in router_queries")
            names.add(queries[bit] if queries is not None else bit)
        routes.append((method.upper(), pattern, frozenset(names)))
    return routes


# ------------------------------------------------------------ openapi.yaml

_BLOCK_SCALAR = re.compile(r"[|>][0-9+-]*\s*(#.*)?$")


def _yaml_key(line, lineno, path):
    """Splits a block-mapping line into (key, rest), or None."""
    m = re.match(r"""("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{\[&*!|>][^:#]*?)\s*:(?:\s+(.*))?$""",
                 line)
    if not m:
        return None
    key, rest = m.group(1), (m.group(2) or "").strip()
    if key.startswith('"'):
        key = _unquote(key)
    elif key.startswith("'"):
        key = key[1:-1].replace("''", "'")
    return key.strip(), rest


def parse_openapi_paths(path):
    """Returns the (METHOD, path) pairs under the document's `paths:`."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")

    pairs = []
    in_paths = False
    paths_seen = False
    path_indent = method_indent = None
    current = None
    scalar_indent = None  # inside a block scalar started at this indent

    for lineno, raw in enumerate(lines, 1):
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise ParseError(f"{path}:{lineno}: a tab in indentation")
        stripped = raw.strip()
        indent = len(raw) - len(raw.lstrip(" "))
        if scalar_indent is not None:
            if not stripped or indent > scalar_indent:
                continue
            scalar_indent = None
        if not stripped or stripped.startswith("#"):
            continue
        if stripped in ("---", "..."):
            continue

        kv = _yaml_key(stripped, lineno, path) if not stripped.startswith("- ") else None
        if kv and _BLOCK_SCALAR.match(kv[1]):
            scalar_indent = indent

        if indent == 0:
            in_paths = bool(kv) and kv[0] == "paths"
            if in_paths:
                if paths_seen:
                    raise ParseError(f"{path}:{lineno}: a second `paths:`")
                paths_seen = True
                rest = kv[1].split("#")[0].strip()
                if rest == "{}":
                    in_paths = False
                elif rest:
                    raise ParseError(f"{path}:{lineno}: `paths:` must be a block mapping")
            continue
        if not in_paths:
            continue

        if path_indent is None:
            path_indent = indent
        if indent < path_indent:
            raise ParseError(f"{path}:{lineno}: bad indentation under `paths:`")
        if indent == path_indent:
            if not kv or not kv[0].startswith("/"):
                raise ParseError(f"{path}:{lineno}: expected a path under `paths:`")
            if kv[1] and kv[1].split("#")[0].strip():
                raise ParseError(f"{path}:{lineno}: path {kv[0]} must be a block mapping")
            current = kv[0]
            method_indent = None
            continue
        if method_indent is None:
            method_indent = indent
        if indent == method_indent:
            if not kv:
                raise ParseError(f"{path}:{lineno}: expected a key of path {current}")
            if kv[0].lower() in METHODS:
                if kv[0] != kv[0].lower():
                    raise ParseError(f"{path}:{lineno}: methods are lower case in OpenAPI")
                pairs.append((kv[0].upper(), current))
    if not paths_seen:
        raise ParseError(f"{path}: no `paths:`")
    return pairs


def parse_openapi_queries(path):
    """{(METHOD, path): {query parameter names}} of the document: the
    parameters of each operation and of its path item, each a $ref to
    `components/parameters` (an inline parameter is refused rather than
    misread), those `in: query` named."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")

    stack = []  # (indent, key) of the block mappings around a line
    refs = {}  # (path, method or None) -> [ref]
    params = {}  # component name -> {"name": ..., "in": ...}
    scalar_indent = None
    for lineno, raw in enumerate(lines, 1):
        stripped = raw.strip()
        indent = len(raw) - len(raw.lstrip(" "))
        if scalar_indent is not None:
            if not stripped or indent > scalar_indent:
                continue
            scalar_indent = None
        if not stripped or stripped.startswith("#") or stripped in ("---", "..."):
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        keys = [k for _, k in stack]
        if stripped.startswith("- "):
            if len(keys) in (3, 4) and keys[0] == "paths" and keys[-1] == "parameters":
                m = re.match(r"""-\s+\$ref:\s*(['"]?)(#/components/parameters/[^'"\s]+)\1\s*$""",
                             stripped)
                if not m:
                    raise ParseError(f"{path}:{lineno}: a parameter that is not a $ref "
                                     "to components/parameters")
                where = (keys[1], keys[2].upper() if len(keys) == 4 else None)
                refs.setdefault(where, []).append(m.group(2).rsplit("/", 1)[1])
            continue
        kv = _yaml_key(stripped, lineno, path)
        if not kv:
            continue
        if _BLOCK_SCALAR.match(kv[1]):
            scalar_indent = indent
        if keys[:2] == ["components", "parameters"] and len(keys) == 3 and \
                kv[0] in ("name", "in"):
            value = kv[1].split(" #")[0].strip().strip("'\"")
            params.setdefault(keys[2], {})[kv[0]] = value
        stack.append((indent, kv[0]))

    out = {}
    for (p, method), names in refs.items():
        for name in names:
            if name not in params:
                raise ParseError(f"{path}: no components/parameters/{name}")
    for (p, method) in refs:
        if method is None:
            continue
        q = set()
        for name in refs.get((p, None), []) + refs[(p, method)]:
            if params[name].get("in") == "query":
                q.add(params[name].get("name"))
        out[(method, p)] = q
    return out


# --------------------------------------------------------------------- main

def parse_c_bodies(path):
    """{schema name: {field: (type, required)}} of api/bodies.c: the body
    tables the handlers check and the schema each implements."""
    with open(path) as f:
        text = f.read()
    tables = {}
    for m in re.finditer(r"const struct body_field (\w+)\[\] = \{(.*?)\};",
                         text, re.S):
        tables[m.group(1)] = {
            f.group(1): (f.group(2), f.group(3) == "true")
            for f in re.finditer(r'\{\s*"(\w+)",\s*(BODY_\w+),\s*(true|false)\s*\}',
                                 m.group(2))}
    m = re.search(r"const struct body_schema body_schemas\[\] = \{(.*?)\};",
                  text, re.S)
    if not m:
        raise ParseError(f"{path}: no body_schemas table")
    out = {}
    for e in re.finditer(r'\{\s*"(\w+)",\s*(\w+)\s*\}', m.group(1)):
        if e.group(2) not in tables:
            raise ParseError(f"{path}: {e.group(2)} is not a table")
        out[e.group(1)] = tables[e.group(2)]
    return out


def parse_openapi_schema(path, name):
    """(properties {name: type or None}, required set) of the object
    schema components/schemas/NAME, read from the document's layout."""
    with open(path) as f:
        lines = f.read().split("\n")
    try:
        start = lines.index(f"    {name}:")
    except ValueError:
        raise ParseError(f"{path}: no schema {name}") from None
    props, required, cur, in_props = {}, set(), None, False
    for line in lines[start + 1:]:
        if line.strip() and not line.startswith("     "):
            break
        m = re.match(r"      required: \[(.*)\]$", line)
        if m:
            required = {x.strip() for x in m.group(1).split(",") if x.strip()}
        if re.match(r"      properties:$", line):
            in_props = True
            continue
        if re.match(r"      \S", line):
            in_props = False
        if not in_props:
            continue
        m = re.match(r"        (\w+):$", line)
        if m:
            cur = m.group(1)
            props[cur] = None
            continue
        m = re.match(r"          type: (\w+)$", line)
        if m and cur:
            props[cur] = m.group(1)
    return props, required


_BODY_TYPES = {"BODY_BOOL": "boolean", "BODY_INT": "integer",
               "BODY_OBJECT": None, "BODY_STRING": None,
               "BODY_STRING_OR_NULL": None}


def check_bodies(bodies_path, openapi_path):
    """Every body table against its schema: the same members, the same
    required ones, and booleans and integers where the schema says so."""
    problems = []
    for schema, fields in parse_c_bodies(bodies_path).items():
        props, required = parse_openapi_schema(openapi_path, schema)
        where = f"{schema}"
        if set(fields) != set(props):
            problems.append(f"{where}: the handlers take {sorted(fields)}, "
                            f"the schema lists {sorted(props)}")
        req = {k for k, (_, r) in fields.items() if r}
        if req != required:
            problems.append(f"{where}: the handlers require {sorted(req)}, "
                            f"the schema {sorted(required)}")
        for k, (t, _) in fields.items():
            want = _BODY_TYPES.get(t)
            if want and k in props and props[k] not in (want, None):
                problems.append(f"{where}.{k}: {t} in the handlers, "
                                f"{props[k]} in the schema")
    return problems, len(parse_c_bodies(bodies_path))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--routes", default=os.path.join(ROOT, "server", "routes.c"))
    ap.add_argument("--router", default=os.path.join(ROOT, "server", "router.c"))
    ap.add_argument("--openapi", default=os.path.join(ROOT, "openapi", "openapi.yaml"))
    ap.add_argument("--bodies", default=os.path.join(ROOT, "api", "bodies.c"))
    args = ap.parse_args()

    problems = []
    try:
        queries = parse_queries(args.router)
        table = parse_routes(args.routes, queries)
        doc = parse_openapi_paths(args.openapi)
        doc_queries = parse_openapi_queries(args.openapi)
        body_problems, n_bodies = check_bodies(args.bodies, args.openapi)
    except (OSError, ParseError) as e:
        print(f"check_routes: {e}", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1

    rname, dname = (os.path.relpath(p, ROOT) if os.path.abspath(p).startswith(ROOT + os.sep)
                    else p for p in (args.routes, args.openapi))
    routes = [(m, p) for m, p, _ in table]
    if not routes:
        problems.append(f"no routes found in {rname}")
    for name, pairs in ((rname, routes), (dname, doc)):
        seen = set()
        for p in pairs:
            if p in seen:
                problems.append(f"{name} lists {p[0]} {p[1]} twice")
            seen.add(p)
    only_routes = sorted(set(routes) - set(doc), key=lambda p: (p[1], p[0]))
    only_doc = sorted(set(doc) - set(routes), key=lambda p: (p[1], p[0]))
    for m, p in only_routes:
        problems.append(f"in {rname} but not in {dname}: {m} {p}")
    for m, p in only_doc:
        problems.append(f"in {dname} but not in {rname}: {m} {p}")
    # The query parameters: a route refuses every one it does not list.
    for m, p, q in table:
        want = doc_queries.get((m, p), set())
        if (m, p) in set(doc) and set(q) != want:
            problems.append(
                f"{m} {p}: {rname} accepts the query parameters "
                f"{sorted(q) or 'none'}, {dname} declares {sorted(want) or 'none'}")
    # If-Match and If-None-Match compare with the GET of the same path.
    for m, p in routes:
        if m in ("PUT", "PATCH", "DELETE") and ("GET", p) not in set(routes):
            problems.append(f"{m} {p} has no GET of the same path in {rname}")
    # The request bodies: api/bodies.c against the schemas they implement.
    problems += body_problems

    if problems:
        for line in problems:
            print(line)
        print("0 passed, 1 failed")
        return 1
    print(f"{len(routes)} routes match, with their query parameters; "
          f"{n_bodies} request bodies match their schemas")
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Turn `terraform providers schema -json` (standard input) into preflight's compact schema
text for one provider, zlib-compressed, on standard output.

Usage: provider-schema-compact.py SOURCE VERSION < schema.json > NAME.schema.z

Only names, nesting, required/optional/computed and deprecated flags are kept: no types,
no descriptions. The format, one entry per line, indented one space per nesting level:

    # SOURCE VERSION                    header
    R aws_s3_bucket                     a resource type   (D: a data source type)
     bucket o                           attribute: r required, o optional, c computed only,
                                        d deprecated, b may be written as blocks (a list or
                                        set of objects: Terraform's "attributes as blocks")
     +versioning list 0 1               nested block: nesting mode, min items, max items (0:
                                        no limit), then d when deprecated; its own entries
                                        follow, one level deeper
"""
import json, sys, zlib

source, version = sys.argv[1], sys.argv[2]
schema = json.load(sys.stdin)["provider_schemas"][source]
out = [f"# {source} {version}"]


def attr_flags(a):
    f = "r" if a.get("required") else ("o" if a.get("optional") else "c")
    if a.get("deprecated"):
        f += "d"
    t = a.get("type")
    if isinstance(t, list) and t[0] in ("list", "set") and isinstance(t[1], list) and t[1][0] == "object":
        f += "b"
    return f


def block(b, depth):
    pad = " " * depth
    for name in sorted(b.get("attributes", {})):
        out.append(f"{pad}{name} {attr_flags(b['attributes'][name])}")
    for name in sorted(b.get("block_types", {})):
        bt = b["block_types"][name]
        line = f"{pad}+{name} {bt['nesting_mode']} {bt.get('min_items', 0)} {bt.get('max_items', 0)}"
        if bt["block"].get("deprecated"):
            line += " d"
        out.append(line)
        block(bt["block"], depth + 1)


for kind, key in (("R", "resource_schemas"), ("D", "data_source_schemas")):
    for name in sorted(schema.get(key, {})):
        out.append(f"{kind} {name}")
        block(schema[key][name]["block"], 1)

text = ("\n".join(out) + "\n").encode()
sys.stdout.buffer.write(zlib.compress(text, 9))

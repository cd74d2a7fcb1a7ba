#!/usr/bin/env python3
"""Writes the seed inputs of every harness, from the shipped definitions and examples, into
OUT/<harness>/ (one file per seed, named by its SHA-1). tools/fuzz.sh --reseed merges them into
tests/fuzz/corpus/ with libFuzzer's -merge=1, which keeps only seeds that add coverage."""
import glob
import hashlib
import json
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# The POST routes in the order of api/routes.cc's table, and the demo principals in the order of
# definitions/principals/demo.json (api_fuzzer.cc picks both by index).
ROUTES = ["/v1/definitions", "/v1/cases", "/v1/cases/{id}/actions", "/v1/delegations",
          "/v1/delegations/{id}/revoke", "/v1/credit-records/{id}/repair", "/v1/mandates",
          "/v1/mandates/{id}/revoke", "/v1/admin/clock"]
PRINCIPALS = [p["id"] for p in
              json.load(open(os.path.join(ROOT, "definitions/principals/demo.json")))["principals"]]


def files(*patterns):
    out = []
    for pattern in patterns:
        out += sorted(glob.glob(os.path.join(ROOT, pattern), recursive=True))
    return [open(p, "rb").read() for p in out if not p.endswith("expected.json")]


def write(out, harness, data):
    folder = os.path.join(out, harness)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def api_seed(route, principal, body, flags=0, bundle=False):
    index = ROUTES.index(route) | (0x80 if bundle else 0)
    return bytes([index, PRINCIPALS.index(principal), flags]) + body


def main(out):
    definitions = files("definitions/**/*.json", "tests/definitions/**/*.json")
    examples = files("docs/examples/*.json")
    scenarios = files("tests/scenarios/*.json")
    for data in definitions + examples + scenarios:
        write(out, "json_fuzzer", data)
    for data in definitions:
        write(out, "definition_fuzzer", data)
    for data in scenarios:
        write(out, "scenario_fuzzer", data)

    ex = lambda name: open(os.path.join(ROOT, "docs/examples", name), "rb").read()
    seeds = [
        api_seed("/v1/definitions", "admin-demo",
                 open(os.path.join(ROOT, "definitions/items/seal-engraving-filing.json"), "rb").read()),
        api_seed("/v1/definitions", "admin-demo",
                 open(os.path.join(ROOT, "definitions/bundles/low-risk-project.json"), "rb").read()),
        api_seed("/v1/cases", "ent-demo", ex("construction-permit-application.json")),
        api_seed("/v1/cases", "ent-demo", ex("business-startup-application.json")),
        api_seed("/v1/cases", "ent-demo", ex("food-licence-commitment-application.json"), flags=2),
        api_seed("/v1/cases/{id}/actions", "clerk-demo", b'{"action": "accept"}', flags=3),
        api_seed("/v1/cases/{id}/actions", "clerk-demo", ex("registration-correction-notice.json"),
                 bundle=True),
        api_seed("/v1/cases/{id}/actions", "ent-demo", ex("business-startup-correction.json"),
                 bundle=True),
        api_seed("/v1/cases/{id}/actions", "ent-demo", b'{"action": "withdraw", "comment": "x"}'),
        api_seed("/v1/cases/{id}/actions", "verifier-demo", ex("commitment-breach.json")),
        api_seed("/v1/delegations", "admin-demo", json.dumps({
            "id": "registration-review-dz-api", "item": "establishment-registration",
            "from": {"id": "city-amr", "name": "××市市场监督管理局"},
            "to": {"id": "dz-approval-bureau", "name": "××开发区行政审批局"},
            "powers": ["review", "decide"], "form": "entrustment",
            "legal_basis": [{"citation": "《中华人民共和国行政许可法》", "article": "第二十四条"}],
            "effective_from": "2026-01-01", "effective_to": "2026-12-31"},
            ensure_ascii=False).encode()),
        api_seed("/v1/delegations/{id}/revoke", "admin-demo", '{"reason": "赋权调整"}'.encode()),
        api_seed("/v1/credit-records/{id}/repair", "admin-demo", '{"reason": "已整改"}'.encode()),
        api_seed("/v1/mandates", "ent-demo", json.dumps({
            "agent": "agent-demo", "definitions": ["food-business-licence"],
            "valid_until": "2026-12-31T00:00:00+08:00", "note": "帮办"}).encode()),
        api_seed("/v1/mandates/{id}/revoke", "ent-demo", b'{}'),
        api_seed("/v1/admin/clock", "admin-demo", b'{"to": "2026-03-31T09:00:00+08:00"}'),
        api_seed("/v1/admin/clock", "admin-demo", b'{"advance": {"days": 3, "hours": 1}}'),
    ]
    for data in seeds:
        write(out, "api_fuzzer", data)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: seeds.py OUT_DIR")
    main(sys.argv[1])

"""Creates, through the API itself, what the schema run needs, and writes it into the directory argv[1]:

- `read.key`: a read-only API key of organization "schema-fuzz";
- `user.token`: the login token of a read-only admin-UI user;
- `schemathesis.toml`: the ids of real objects (two organizations, their keys, the user, a model, an
  alias), offered to the fuzzer half of the time in place of random path and query values, so that
  operations on existing objects answer 200 (and their bodies are checked) and not only 404.

GAIA_URL and GAIA_KEY (the admin key) come from the environment. Any unexpected answer is fatal.
"""

import json
import os
import secrets
import sys
from pathlib import Path

import requests

url = os.environ["GAIA_URL"]
admin = {"Authorization": f"Bearer {os.environ['GAIA_KEY']}"}
out = Path(sys.argv[1])


def call(method: str, path: str, expected: int, **kwargs) -> dict:
    response = requests.request(method, url + path, timeout=30, **kwargs)
    if response.status_code != expected:
        sys.exit(f"{method} {path}: expected {expected}, got {response.status_code}: {response.text}")
    return response.json()


def organization(name: str) -> str:
    return call("POST", "/v1/organizations", 201, headers=admin, json={"name": name})["id"]


def key(org_id: str, name: str, permissions: list[str]) -> dict:
    body = {"organization_id": org_id, "name": name, "permissions": permissions}
    return call("POST", "/v1/api-keys", 201, headers=admin, json=body)


own_org = organization("schema-fuzz")
other_org = organization("schema-other")
read_key = key(own_org, "schema read-only", ["read"])
write_key = key(own_org, "schema read-write", ["read", "write"])
other_key = key(other_org, "schema other", ["read", "write"])

password = secrets.token_urlsafe(18)
user = call(
    "POST",
    "/v1/admin/users",
    201,
    headers=admin,
    json={"username": "schema-viewer", "password": password, "role": "user"},
)
token = call(
    "POST", "/v1/admin/login", 200, json={"username": "schema-viewer", "password": password}
)["token"]

models = [m["id"] for m in call("GET", "/v1/models", 200, headers=admin)["data"]]
if not models:
    sys.exit("GET /v1/models listed no model")
call("PUT", "/v1/admin/aliases/schema-fast", 200, headers=admin, json={"targets": models[:2]})

(out / "read.key").write_text(read_key["key"] + "\n")
(out / "user.token").write_text(token + "\n")

# Values that broke or could break a database layer: NUL (PostgreSQL refuses it even in comparisons),
# LIKE wildcards, quotes and SQL, backslashes, a non-BMP character.
nasty = ["a\x00b", "%", "_", "'", "' OR '1'='1' --", "\\", "😀"]
org_ids = [own_org, other_org]
key_ids = [read_key["id"], write_key["id"], other_key["id"]]
dictionaries = {
    "organizations": org_ids + nasty[:2],
    "keys": key_ids + nasty[:2],
    "users": [user["id"]] + nasty[:2],
    "models": models[:5] + nasty[:2],
    "aliases": ["schema-fast"],
    "nasty": nasty,
}
bindings = {
    "path.org_id": "organizations",
    "query.organization_id": "organizations",
    "body.organization_id": "organizations",
    "path.key_id": "keys",
    "query.key_id": "keys",
    "path.user_id": "users",
    "path.id": "models",
    "query.model": "models",
    "path.alias": "aliases",
    "query.search": "nasty",
    "query.provider": "nasty",
    "query.status": "nasty",
    "body.description": "nasty",
    "body.display_name": "nasty",
}
lines = [
    "# Written by tests/schema/setup_callers.py for one run: ids of real objects.",
    "# No crash cache: every run starts from the same state, so a clean clone fuzzes the same cases.",
    "[cache]",
    "enabled = false",
]
for name, values in dictionaries.items():
    lines.append(f"[dictionaries.{name}]")
    # JSON strings are TOML basic strings (non-ASCII written as is: TOML has no surrogate escapes).
    lines.append(f"values = {json.dumps(values, ensure_ascii=False)}")
# 422 is how GaiaRouter answers a well-formed request refused by a rule no schema can state (an expiry in
# the past, dates in the wrong order, a provider or a model this gateway does not have): a schema-valid
# request may get it, as it may get 404 or 409. 400 stays a failure — the document must say what a 400 is.
lines.append("[checks.positive_data_acceptance]")
lines.append('expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]')
lines.append("[parameters]")
for parameter, dictionary in bindings.items():
    lines.append(f'"{parameter}" = {{ dictionary = "{dictionary}", probability = 0.5 }}')
(out / "schemathesis.toml").write_text("\n".join(lines) + "\n")

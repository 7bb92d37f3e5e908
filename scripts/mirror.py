#!/usr/bin/env python3
"""Keep a copy of the craft-village records in a local SQLite file by following the changes feed.

A reference consumer, standard library only (Python 3.11+). The first run takes a cursor from
GET /api/v1/changes/head, copies every list, and stores the records and the cursor together; each
later run (or each poll, without --once) applies the changes after the stored cursor, in order,
and stores the new cursor in the same SQLite transaction as the records. A run that stops at any
point leaves the file consistent, and the next one carries on where it committed.

    python scripts/mirror.py --url http://127.0.0.1:8000 --key "$KEY" --db mirror.sqlite --once

The file holds one table, record(resource, id, version, body), body being the record's JSON as
GET /api/v1/<resource>/<id> returns it, and the cursor in state. A cursor older than the
service's retention (410) starts the copy again from scratch.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

PAGE = 500  # records per list page (the lists' maximum)
CHANGES = 1000  # changes per feed page (the feed's maximum)

SCHEMA = """
CREATE TABLE IF NOT EXISTS record (
    resource TEXT NOT NULL,
    id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (resource, id)
);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Gone(Exception):
    """The stored cursor is older than the feed's retention: copy everything again."""


class Api:
    def __init__(self, url: str, key: str) -> None:
        self.url = url.rstrip("/")
        self.key = key

    def get(self, path: str, **params: Any) -> Any:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        # The service's own http(s) URL, given by whoever runs this.
        request = urllib.request.Request(  # noqa: S310
            f"{self.url}{path}?{query}", headers={"X-API-Key": self.key, "Accept": "application/json"}
        )
        for attempt in range(8):
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                    return json.load(answer)
            except urllib.error.HTTPError as error:
                if error.code == 410:
                    raise Gone from None
                if error.code not in (429, 502, 503, 504):
                    raise SystemExit(
                        f"GET {path}: {error.code} {error.read().decode(errors='replace')}"
                    ) from None
                wait = float(error.headers.get("Retry-After") or 2**attempt)
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                wait = 2**attempt
                print(f"GET {path}: {error}; retrying in {wait} s", file=sys.stderr)
            time.sleep(min(wait, 60))
        raise SystemExit(f"GET {path}: the service did not answer")


def resources(api: Api) -> list[str]:
    """The resource paths the service serves, as its OpenAPI document lists them."""
    document = api.get("/openapi.json")
    return list(document["components"]["schemas"]["ResourcePath"]["enum"])


def store(db: sqlite3.Connection, resource: str, record: dict[str, Any]) -> None:
    db.execute(
        "INSERT INTO record (resource, id, version, body) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (resource, id) DO UPDATE SET version = excluded.version, body = excluded.body",
        (resource, record["id"], record["version"], json.dumps(record, ensure_ascii=False, sort_keys=True)),
    )


def copy_list(api: Api, db: sqlite3.Connection, resource: str) -> int:
    """Every record of one list, by id. Pages overlap by one record: when the first record of a
    page is not the last of the one before, a deletion has shifted the list, and the copy of
    this list starts over (whatever was deleted meanwhile, the feed deletes afterwards)."""
    while True:
        copied, offset, last = 0, 0, None
        while True:
            page = api.get(f"/api/v1/{resource}", sort="id", limit=PAGE, offset=offset)
            items = page["items"]
            if last is not None and (not items or items[0]["id"] != last):
                break  # shifted: start this list again
            for record in items:
                store(db, resource, record)
            fresh = items if last is None else items[1:]
            copied += len(fresh)
            if offset + len(items) >= page["total"] or len(items) < PAGE:
                return copied
            last = items[-1]["id"]
            offset += len(items) - 1


def resynchronise(api: Api, db: sqlite3.Connection) -> None:
    """Take a cursor first, then copy every list; store both at once."""
    head = api.get("/api/v1/changes/head")["next"]
    with db:
        db.execute("DELETE FROM record")
        counts = {resource: copy_list(api, db, resource) for resource in resources(api)}
        db.execute("INSERT OR REPLACE INTO state (key, value) VALUES ('cursor', ?)", (head,))
    print(f"copied {sum(counts.values())} records: " + ", ".join(f"{n} {r}" for r, n in counts.items()))


def follow(api: Api, db: sqlite3.Connection) -> int:
    """Apply the changes after the stored cursor until an empty page; how many were applied."""
    applied = 0
    while True:
        (cursor,) = db.execute("SELECT value FROM state WHERE key = 'cursor'").fetchone()
        page = api.get("/api/v1/changes", after=cursor, limit=CHANGES)
        with db:
            for item in page["items"]:
                if item["record"] is None:
                    db.execute(
                        "DELETE FROM record WHERE resource = ? AND id = ?", (item["resource"], item["id"])
                    )
                else:
                    store(db, item["resource"], item["record"])
            db.execute("UPDATE state SET value = ? WHERE key = 'cursor'", (page["next"],))
        applied += len(page["items"])
        if not page["items"]:
            return applied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the service's root")
    parser.add_argument(
        "--key", default=os.environ.get("CRAFTVILLAGE_KEY"), help="an API key (or CRAFTVILLAGE_KEY)"
    )
    parser.add_argument("--db", default="mirror.sqlite", help="the SQLite file to keep")
    parser.add_argument("--once", action="store_true", help="stop when up to date instead of polling")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between polls")
    args = parser.parse_args()
    if not args.key:
        parser.error("an API key is needed: --key or CRAFTVILLAGE_KEY")
    api = Api(args.url, args.key)
    db = sqlite3.connect(args.db)
    db.executescript(SCHEMA)
    while True:
        try:
            if db.execute("SELECT 1 FROM state WHERE key = 'cursor'").fetchone() is None:
                resynchronise(api, db)
            applied = follow(api, db)
        except Gone:
            print("the stored cursor is older than the feed's retention: copying everything again")
            with db:
                db.execute("DELETE FROM state WHERE key = 'cursor'")
            continue
        (total,) = db.execute("SELECT count(*) FROM record").fetchone()
        print(f"applied {applied} change{'' if applied == 1 else 's'}; up to date with {total} records")
        if args.once:
            return
        time.sleep(args.interval)


if __name__ == "__main__":
    main()

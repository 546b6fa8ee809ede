"""Synthetic Flyway "migration checksum mismatch" failures: a failure type the starter corpus lacks
(no row mentions Flyway). Used by bench/retrain_demo.py to show what retraining on thumbs-up
answers adds."""
from __future__ import annotations

import random

TABLES = ["users", "orders", "invoices", "payments", "sessions", "audit_log", "accounts", "carts",
          "products", "shipments", "coupons", "tenants", "roles", "events", "reviews"]
VERBS = ["add", "create", "alter", "index", "drop", "backfill", "rename"]
DBS = ["postgresql", "mysql", "mariadb"]
RUNNERS = ["./gradlew flywayMigrate", "mvn flyway:migrate", "flyway -configFiles=conf/flyway.conf migrate"]


def case(rng: random.Random) -> dict:
    version = rng.randint(2, 48)
    name = f"V{version}__{rng.choice(VERBS)}_{rng.choice(TABLES)}.sql"
    applied, resolved = rng.randint(-2**31, 2**31 - 1), rng.randint(-2**31, 2**31 - 1)
    db, runner = rng.choice(DBS), rng.choice(RUNNERS)
    schema = rng.choice(["public", "app", "core"])
    log = "\n".join([
        f"$ {runner}",
        f"Flyway Community Edition 9.{rng.randint(0, 22)}.{rng.randint(0, 3)} by Redgate",
        f"Database: jdbc:{db}://db:5432/app ({db} {rng.randint(12, 16)}.{rng.randint(0, 9)})",
        f"Successfully validated {version + rng.randint(0, 4)} migrations (execution time 00:00.0{rng.randint(10, 99)}s)",
        "ERROR: Validate failed: Migrations have failed validation",
        f"Migration checksum mismatch for migration version {version}",
        f"-> Applied to database : {applied}",
        f"-> Resolved locally    : {resolved}",
        f"Either revert the changes to the migration {name}, or run repair to update the schema history.",
        f"Schema: {schema}",
        "BUILD FAILED",
    ])
    root = (f"Migration {name} (version {version}) was edited after it was applied: its checksum no longer "
            f"matches the flyway_schema_history table.")
    fix = (f"Restore {name} to the applied version and put the change in a new migration; only if the edit "
           f"is intended, run flyway repair against the {schema} schema.")
    return {"input": log, "output": f"Root Cause: {root}\nFix: {fix}", "category": "configuration",
            "type": "flyway", "key_ids": [name, "flyway repair"]}


def cases(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [case(rng) for _ in range(n)]

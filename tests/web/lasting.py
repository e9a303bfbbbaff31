"""What a refused request must leave exactly as it was: every row of every table and every blob,
except what showing a page records anyway (the officer's "case opened" in the audit chain, its
head, and their read mark), since a refusal on the case page shows the case page again."""

import json

from .test_hostile_input import snapshot

SHOWING = ("audit_entry", "audit_head", "audit_checkpoint", "case_reading")


def lasting(ctx) -> dict:
    """The snapshot of test_hostile_input, with the audit chain kept only for what is not a page view."""
    taken = snapshot(ctx)
    rows = {name: values for name, values in taken["rows"].items() if name not in SHOWING}
    with ctx.engine.connect() as connection:
        bodies = [bytes(b) for (b,) in connection.exec_driver_sql("SELECT body FROM audit_entry ORDER BY sequence")]
    rows["audit actions"] = [entry for entry in map(json.loads, bodies) if entry.get("action") != "case opened"]
    return {"rows": rows, "blobs": taken["blobs"]}

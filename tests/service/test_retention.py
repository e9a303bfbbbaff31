"""Retention: a purged case is gone for everyone, and the audit chain still verifies."""

import datetime as dt
import os

import pytest
from sqlmodel import Session, select

from intake.blobs import FIXED_TIME
from intake.service import audit, casework, inbox, officers, reporting, retention
from intake.service.errors import AuthenticationFailed, NotFound
from intake.store import Attachment, Case, CaseKeyWrap, Identity
from policies import validate_report

from ..clock import Clock
from ..helpers import officer_token
from ..test_nothing_readable_at_rest import stored_bytes


@pytest.fixture
def clock(ctx):
    ctx.now = Clock(dt.datetime(2020, 1, 6, 10, 0, tzinfo=dt.UTC))
    return ctx.now


def test_purge_crypto_shreds_old_closed_cases_only(ctx, clock, tmp_path, client):
    from ..files import report_upload

    body, headers = report_upload([("evidence.bin", os.urandom(70_000))], concerns=("misconduct",), description="to be purged")
    filed = client.post("/api/v1/reports", content=body, headers=headers).json()
    old_id, passphrase = filed["cases"][0]["id"], filed["passphrase"]
    keep = reporting.file_report(ctx, validate_report(ctx.policy, ["misconduct"], "still open", {}))
    oig = officers.current(ctx, officer_token(ctx, "oig-1"))
    for state in ["acknowledged", "intake_assessment"]:
        casework.transition(ctx, oig, old_id, state)
    casework.transition(ctx, oig, old_id, "closed_at_intake", reason="out of scope", message="We closed your report.")
    with Session(ctx.engine) as db:
        case = db.get(Case, old_id)
        sealed = [case.report, case.answers] + [
            w.wrap for w in db.exec(select(CaseKeyWrap).where(CaseKeyWrap.case_id == old_id)).all()
        ]
        blob_ids = [a.blob_id for a in db.exec(select(Attachment).where(Attachment.case_id == old_id)).all()]
    assert blob_ids and all(ctx.blobs.exists(b) for b in blob_ids)

    clock.advance(ctx.policy.retention_closed_case_days)
    assert retention.purge(ctx) == []  # not yet: exactly the retention period
    clock.advance(1)
    assert [c.case_id for c in retention.purge(ctx, dry_run=True)] == [old_id]
    assert [c.case_id for c in retention.purge(ctx)] == [old_id]

    with pytest.raises(AuthenticationFailed):
        reporting.open_case_room(ctx, passphrase)
    with pytest.raises(NotFound):
        casework.open_case(ctx, oig, old_id)
    assert [r.id for r in inbox.inbox(ctx, oig, "all").rows] == [keep.cases[0].id]
    assert not any(ctx.blobs.exists(b) for b in blob_ids)
    # Raw bytes of the SQLite file and WAL (secure_delete, WAL truncated), or PostgreSQL's dump (bytea as hex).
    for where, data in stored_bytes(ctx, tmp_path):
        for blob in sealed:
            assert blob[1:40] not in data and blob[1:40].hex().encode() not in data, (
                f"sealed bytes of the purged case remain in {where}"
            )
    entries = audit.entries(ctx.engine)
    assert entries[-1]["action"] == "case purged" and entries[-1]["case"] == old_id
    assert audit.verify(ctx.engine, ctx.instance)[0] == len(entries)
    assert reporting.case_room(ctx, reporting.open_case_room(ctx, keep.passphrase))[0].id == keep.cases[0].id


def test_orphaned_and_partial_blobs_are_swept_only_when_old(ctx, client):
    import time as clock_time

    from ..files import report_upload

    body, headers = report_upload([("kept.bin", b"referenced")])
    assert client.post("/api/v1/reports", content=body, headers=headers).status_code == 201
    (kept,) = [p for p in ctx.blobs.root.rglob("*") if p.is_file()]
    orphan = ctx.blobs.path("ab" * 16)
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"x")
    partial = ctx.blobs.root / "partial" / ("cd" * 16)
    partial.write_bytes(b"y")
    fresh = ctx.blobs.root / "partial" / ("ef" * 16)
    fresh.write_bytes(b"z")
    unsettled = ctx.blobs.path("12" * 16)  # just committed, its case not yet: not to be touched
    unsettled.parent.mkdir(parents=True, exist_ok=True)
    unsettled.write_bytes(b"w")
    left_by_purge = ctx.blobs.path("34" * 16)  # settled, but its case is gone (a purge killed half-way)
    left_by_purge.parent.mkdir(parents=True, exist_ok=True)
    left_by_purge.write_bytes(b"v")
    ctx.blobs.settle([left_by_purge.name])
    assert kept.stat().st_mtime == FIXED_TIME  # its case was committed: settled
    old = clock_time.time() - 2 * 86400
    for path in (orphan, partial):
        os.utime(path, (old, old))
    assert retention.sweep_orphan_blobs(ctx) == 3
    assert kept.exists() and fresh.exists() and unsettled.exists()
    assert not orphan.exists() and not partial.exists() and not left_by_purge.exists()
    assert unsettled.stat().st_mtime == FIXED_TIME  # the sweep settles every blob that stays


def test_a_withdrawn_case_shows_its_deletion_date_then_is_purged_with_the_identity_left(ctx, clock):
    report = validate_report(
        ctx.policy, ["retaliation"], "My post was abolished.", {"identity_consent": "yes", "identity": "Amal, ext. 4411"}
    )
    filed = reporting.file_report(ctx, report)
    case_id = filed.cases[0].id
    token = reporting.open_case_room(ctx, filed.passphrase)
    assert reporting.case_room(ctx, token)[0].deleted_on is None  # open: kept as long as it is handled
    reporting.withdraw(ctx, token, case_id)
    room = reporting.case_room(ctx, token)[0]
    first_purge_day = clock().date() + dt.timedelta(days=ctx.policy.retention_closed_case_days + 1)
    assert room.deleted_on == first_purge_day.isoformat()

    clock.advance(ctx.policy.retention_closed_case_days)
    assert retention.purge(ctx) == []
    clock.advance(1)
    assert clock().date() == first_purge_day
    assert [c.case_id for c in retention.purge(ctx)] == [case_id]
    with Session(ctx.engine) as db:
        assert db.get(Identity, case_id) is None and db.get(Case, case_id) is None

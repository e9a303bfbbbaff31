"""The blob store in PostgreSQL (INTAKE_BLOBS=database): files round-trip through the real app in
chunks, commit with the rows that name them or not at all, go into backups and come back into
either store, move between the stores, and go with a purge. Several nodes share it (test_nodes.py).

On SQLite the store is refused with a clear reason; everything else here needs PostgreSQL.
"""

import dataclasses
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from intake.app import create_app
from intake.blobs import BlobStore
from intake.database_blobs import CHUNK_BYTES, DatabaseBlobStore, NotForSqlite
from intake.service import backup, blob_moves, casework, retention
from intake.service.attachments import FileSink, UploadBudget
from intake.service.context import Context
from intake.settings import Settings
from intake.store import BlobChunk, make_engine

from .conftest import CHEAP_ARGON2, database_url, make_instance, on_postgres
from .enrolments import enrolments
from .files import multipart, report_upload, sha256, snapshot, stored_blobs
from .helpers import api_login, caseroom_login, officer_token
from .schema import drop_schema, stamp_head

PASSPHRASE = "a backup passphrase of some length"
needs_postgres = pytest.mark.skipif(not on_postgres(), reason="the database blob store is PostgreSQL's (TEST_DATABASE_URL)")


def test_sqlite_refuses_the_database_store_and_says_why(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with pytest.raises(NotForSqlite, match="needs PostgreSQL"):
        DatabaseBlobStore(engine)
    engine.dispose()


@pytest.fixture
def dbctx(tmp_path: Path):
    if not on_postgres():
        pytest.skip("the database blob store is PostgreSQL's (TEST_DATABASE_URL)")
    context = make_instance(tmp_path / "data", database_url(tmp_path), blobs="database")
    assert isinstance(context.blobs, DatabaseBlobStore)
    yield context
    context.engine.dispose()


@pytest.fixture
def dbclient(dbctx: Context):
    with TestClient(create_app(dbctx), base_url="http://127.0.0.1") as test_client:
        yield test_client


def chunks(ctx: Context) -> int:
    with ctx.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(BlobChunk)).scalar_one()


def file_with(client: TestClient, files: list[tuple[str, bytes]]) -> dict:
    body, headers = report_upload(files)
    response = client.post("/api/v1/reports", content=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def download_all(client: TestClient, case_id: str, office: str = "oig-1") -> dict[str, bytes]:
    headers = api_login(client, office)
    listed = client.get(f"/api/v1/officer/cases/{case_id}", headers=headers).json()["files"]
    return {f["name"]: client.get(f"/api/v1/officer/cases/{case_id}/files/{f['id']}", headers=headers).content for f in listed}


def test_files_round_trip_in_chunks_and_nothing_lands_in_the_data_directory(dbclient, dbctx):
    big, small = os.urandom(2 * CHUNK_BYTES + 12_345), os.urandom(10)
    filed = file_with(dbclient, [("big.bin", big), ("small.bin", small)])
    assert download_all(dbclient, filed["cases"][0]["id"]) == {"big.bin": big, "small.bin": small}
    assert chunks(dbctx) == 3 + 1  # the big file's 2 full chunks and its tail, the small one's one
    assert not (dbctx.settings.data_dir / "blobs").exists()
    with dbctx.engine.connect() as connection:  # ciphertext only: no chunk holds a run of the plaintext
        stored = b"".join(connection.execute(select(BlobChunk.data)).scalars())
    assert big[:64] not in stored and big[-64:] not in stored and small not in stored


def test_a_failed_service_call_rolls_its_chunks_back_with_it(dbclient, dbctx):
    before = snapshot(dbctx)
    dbctx.settings = dataclasses.replace(dbctx.settings, submissions_per_hour=0)
    body, headers = report_upload([("a.bin", os.urandom(CHUNK_BYTES + 1))])
    response = dbclient.post("/api/v1/reports", content=body, headers=headers)
    assert response.status_code == 503
    assert snapshot(dbctx) == before and chunks(dbctx) == 0


def test_uploads_refused_or_cut_off_leave_no_chunk(dbclient, dbctx):
    dbctx.settings = dataclasses.replace(dbctx.settings, max_file_bytes=CHUNK_BYTES + 10)
    body, headers = report_upload([("ok.bin", b"fine"), ("too-big.bin", os.urandom(CHUNK_BYTES + 11))])
    assert dbclient.post("/api/v1/reports", content=body, headers=headers).status_code == 413
    dbctx.settings = dataclasses.replace(dbctx.settings, max_file_bytes=2**30)
    body, headers = report_upload([("cut.bin", os.urandom(3 * CHUNK_BYTES))])
    assert dbclient.post("/api/v1/reports", content=body[: 2 * CHUNK_BYTES], headers=headers).status_code == 400
    assert chunks(dbctx) == 0 and stored_blobs(dbctx) == []


def test_chunks_of_an_upload_in_progress_are_invisible_until_its_case_commits(dbctx):
    """Written in the upload's own transaction: another connection sees nothing until the case commits."""
    from intake.service import reporting
    from policies import validate_report

    budget = UploadBudget.for_request(dbctx)
    sink = FileSink(dbctx, "slow.bin", "application/octet-stream", False, budget)
    sink.write(os.urandom(2 * CHUNK_BYTES))
    assert chunks(dbctx) == 0
    pending = sink.finish()
    assert chunks(dbctx) == 0
    filed = reporting.file_report(dbctx, validate_report(dbctx.policy, ["misconduct"], "x", {}), [pending])
    assert chunks(dbctx) == 3
    assert filed.cases


def test_a_full_upload_pool_is_busy_not_a_hang(dbclient, dbctx):
    """Uploads hold a connection of their own pool while they stream: one more waits, then gets 503."""
    budget_holders = []
    store = dbctx.blobs
    for _ in range(dbctx.settings.blob_connections):
        batch = store.batch()
        batch.new_writer()
        budget_holders.append(batch)
    try:
        body, headers = report_upload([("late.bin", b"x")])
        response = dbclient.post("/api/v1/reports", content=body, headers=headers)
        assert response.status_code == 503 and response.headers["retry-after"]
        assert dbclient.get("/").status_code == 200  # pages never wait for an upload connection
    finally:
        for batch in budget_holders:
            batch.rollback()
    assert file_with(dbclient, [("now.bin", b"x")])["cases"]


def test_purge_removes_the_chunks_in_its_transaction(dbclient, dbctx):
    filed = file_with(dbclient, [("gone.bin", os.urandom(1000))])
    case_id = filed["cases"][0]["id"]
    assert chunks(dbctx) == 1
    retention.purge_case(dbctx, case_id)
    assert chunks(dbctx) == 0


def test_a_reply_with_a_file_commits_with_its_message_and_the_reporter_reads_it(dbclient, dbctx):
    filed = file_with(dbclient, [])
    case_id = filed["cases"][0]["id"]
    oig = api_login(dbclient, "oig-1")
    body, headers = multipart({"message": '{"body": "a form for you"}'}, [("form.bin", b"fill me in")])
    response = dbclient.post(f"/api/v1/officer/cases/{case_id}/messages", content=body, headers={**headers, **oig})
    assert response.status_code == 201, response.text
    reporter = caseroom_login(dbclient, filed["passphrase"])
    (case,) = dbclient.get("/api/v1/caseroom", headers=reporter).json()["cases"]
    (sent,) = [f for m in case["messages"] for f in m["files"]]
    fetched = dbclient.get(f"/api/v1/caseroom/cases/{case_id}/files/{sent['id']}", headers=reporter)
    assert fetched.content == b"fill me in" and chunks(dbctx) == 1


def _restore(tmp_path: Path, name: str, archive: Path, blobs: str) -> Context:
    settings = Settings(data_dir=tmp_path / name, database_url=database_url(tmp_path), blobs=blobs)
    engine = make_engine(settings.database_url)
    drop_schema(engine)
    engine.dispose()
    backup.restore_backup(settings, archive, PASSPHRASE)
    return Context.from_settings(settings)


def same_officers(ctx: Context, like: Context) -> Context:
    enrolments(ctx).update(enrolments(like))
    return ctx


def stamp(ctx: Context) -> None:
    stamp_head(ctx.engine)


def test_backups_carry_the_files_from_either_store_into_either_store(dbclient, dbctx, tmp_path):
    stamp(dbctx)
    evidence = os.urandom(CHUNK_BYTES + 777)
    filed = file_with(dbclient, [("evidence.bin", evidence)])
    case_id = filed["cases"][0]["id"]
    first = tmp_path / "from-database.bak"
    counts = backup.write_backup(dbctx, first, PASSPHRASE, CHEAP_ARGON2)
    assert counts["blobs"] == 1
    dbctx.engine.dispose()

    restored = same_officers(_restore(tmp_path, "on-disk", first, "filesystem"), dbctx)  # database -> directory
    assert isinstance(restored.blobs, BlobStore) and len(restored.blobs.stored_ids()) == 1
    assert _files_of(restored, case_id) == [sha256(evidence)]
    second = tmp_path / "from-directory.bak"
    backup.write_backup(restored, second, PASSPHRASE, CHEAP_ARGON2)
    restored.engine.dispose()

    again = same_officers(_restore(tmp_path, "in-database", second, "database"), dbctx)  # directory -> database
    assert isinstance(again.blobs, DatabaseBlobStore) and chunks(again) == 2
    assert _files_of(again, case_id) == [sha256(evidence)]
    again.engine.dispose()


def _files_of(ctx: Context, case_id: str) -> list[str]:
    """Every file of the case, as its office reads it, by digest."""
    officer = casework_officer(ctx)
    detail = casework.open_case(ctx, officer, case_id)
    digests = []
    for view in detail.files:
        _, content = casework.open_file(ctx, officer, case_id, view.id)
        digests.append(sha256(b"".join(content)))
    return digests


def casework_officer(ctx: Context):
    from intake.service import officers

    return officers.current(ctx, officer_token(ctx, "oig-1"))


@needs_postgres
def test_blobs_move_to_the_database_and_back_and_a_cut_move_goes_on(tmp_path):
    ctx = make_instance(tmp_path / "data", database_url(tmp_path), blobs="filesystem")
    with TestClient(create_app(ctx), base_url="http://127.0.0.1") as client:
        data = {f"f{i}.bin": os.urandom(CHUNK_BYTES // 2 + i) for i in range(3)}
        case_id = file_with(client, list(data.items()))["cases"][0]["id"]
    settings = ctx.settings
    assert len(BlobStore(settings.blob_dir).stored_ids()) == 3
    assert blob_moves.misplaced(dataclasses.replace(settings, blobs="database")) == 3

    moved = blob_moves.move_blobs(settings, "database")
    assert (moved.moved, moved.missing) == (3, 0)
    assert BlobStore(settings.blob_dir).stored_ids() == [] and chunks(ctx) == 3
    in_db = same_officers(Context.from_settings(dataclasses.replace(settings, blobs="database")), ctx)
    assert sorted(_files_of(in_db, case_id)) == sorted(sha256(d) for d in data.values())

    # A move back cut off after one blob: that one is in both stores, and the next run finishes.
    one = in_db.blobs.stored_ids()[0]
    blob_moves._write_file(BlobStore(settings.blob_dir), one, in_db.blobs)
    back = blob_moves.move_blobs(settings, "filesystem")
    assert (back.moved, back.missing) == (3, 0)
    assert chunks(ctx) == 0 and len(BlobStore(settings.blob_dir).stored_ids()) == 3
    assert blob_moves.move_blobs(settings, "filesystem") == blob_moves.Moved(0, 3, 0)
    assert sorted(_files_of(ctx, case_id)) == sorted(sha256(d) for d in data.values())
    in_db.engine.dispose()
    ctx.engine.dispose()

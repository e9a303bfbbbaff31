"""A backup taken while reports are filed restores (#24 item 1): every table is read in one snapshot."""

import threading
from pathlib import Path

from sqlalchemy import event, func
from sqlmodel import Session, select

from intake.service import backup, officers, reporting
from intake.service.context import Context
from intake.settings import Instance, Settings
from intake.store import Case, CaseKeyWrap, Handling, make_engine, migrate
from policies import validate_report

from .conftest import CHEAP_ARGON2, PASSWORDS, database_url, on_postgres
from .schema import drop_schema

BACKUP_PASSPHRASE = "a backup passphrase long enough"


def migrated_instance(data_dir: Path, url: str) -> Context:
    """An instance made as `intake init` makes it (migrated: a backup names the schema's revision)."""
    settings = Settings(data_dir=data_dir, database_url=url, argon2_concurrency=4, argon2_wait_seconds=30)
    settings.write_instance(Instance.create(CHEAP_ARGON2))
    engine = make_engine(url)
    drop_schema(engine)
    migrate(engine)
    engine.dispose()
    ctx = Context.from_settings(settings)
    for office, username in (("ECO", "eco-1"), ("OIG", "oig-1")):
        officers.found_office(ctx, office, username, PASSWORDS[username])
    return ctx


def file_one(ctx: Context, n: int) -> None:
    report = validate_report(ctx.policy, ["misconduct"], f"fuel is sold off the books, case {n}", {})
    reporting.file_report(ctx, report)


def test_a_backup_taken_while_reports_are_filed_restores_and_is_consistent(tmp_path):
    """#24 item 1: `intake backup` read each table in its own snapshot, so a report filed between the
    read of `case_file` and that of `case_handling` left a handling whose case the backup lacks, and
    `intake restore` failed on `case_handling_case_id_fkey` (while the backup said it succeeded).

    The race is made certain: as the backup is about to read `case_handling`, it waits (a Barrier)
    until a report has been filed and committed; other threads file reports all along. The backup then
    restores into an empty database, and what it holds is whole: every case with its handling and wraps.
    On SQLite the filings go on while the backup reads, too: its snapshot keeps no writer waiting."""
    url = database_url(tmp_path)
    ctx = migrated_instance(tmp_path / "old", url)
    for n in range(5):
        file_one(ctx, n)
    backup_thread = threading.get_ident()
    barrier, stop, errors = threading.Barrier(2, timeout=30), threading.Event(), []

    paused = []

    def before_handlings(conn, cursor, statement, parameters, context, executemany) -> None:
        if threading.get_ident() == backup_thread and "FROM case_handling" in statement and not paused:
            paused.append(True)
            barrier.wait()  # let the racing filer go ...
            barrier.wait()  # ... and come back once its report is committed

    def racing_filer() -> None:
        try:
            barrier.wait()
            file_one(ctx, 1000)
            barrier.wait()
        except Exception as error:  # reported by the test below
            errors.append(error)

    def filing_all_along(k: int) -> None:
        n = 0
        while not stop.is_set():
            try:
                file_one(ctx, 2000 + 100 * k + n)
            except Exception as error:
                errors.append(error)
                return
            n += 1

    event.listen(ctx.engine, "before_cursor_execute", before_handlings)
    threads = [threading.Thread(target=racing_filer)] + [threading.Thread(target=filing_all_along, args=(k,)) for k in range(3)]
    for thread in threads:
        thread.start()
    archive = tmp_path / "instance.backup"
    try:
        counts = backup.write_backup(ctx, archive, BACKUP_PASSPHRASE, argon2=CHEAP_ARGON2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
        event.remove(ctx.engine, "before_cursor_execute", before_handlings)
    assert not errors, errors
    assert counts["rows"] > 0
    ctx.engine.dispose()

    if on_postgres():  # restored into the same, emptied, database; SQLite into a new file
        engine = make_engine(url)
        drop_schema(engine)
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    new = Settings(data_dir=tmp_path / "new", database_url=url)
    restored = backup.restore_backup(new, archive, BACKUP_PASSPHRASE)
    assert restored["rows"] == counts["rows"]
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            cases = set(db.exec(select(Case.id)).all())
            assert len(cases) >= 5
            assert set(db.exec(select(Handling.case_id)).all()) == cases
            wrapped = db.exec(select(CaseKeyWrap.case_id, func.count()).group_by(CaseKeyWrap.case_id)).all()
            assert {case_id: n for case_id, n in wrapped} == dict.fromkeys(cases, 2)  # the office's and the reporter's
    finally:
        drop_schema(engine)
        engine.dispose()

"""Content-free notification digests, sent to a real SMTP server in the test process (aiosmtpd, STARTTLS,
a test CA, authentication): they arrive, say counts only under one subject, lose nothing while the mail
server is down, go out once however many senders run, and count only cases the officer can open."""

import dataclasses
import datetime as dt
import re
import threading

import pyotp
import pytest
from sqlmodel import Session, func, select

from crypto import DecryptionError, notification_key, open_address
from intake import i18n
from intake.digest_mail import SUBJECT, compose
from intake.mailer import MailFailure, send
from intake.service import audit, notifications, officers, reporting
from intake.service.errors import Conflict
from intake.store import AuditEntry, Handling, NotificationAddress, NotificationEvent
from policies import validate_report

from ..clock import Clock
from ..conftest import PASSWORDS
from ..enrolments import enrolments
from ..mail_server import Inbox, free_port, mail_server, mail_settings, make_ca

MARKER = "MARKER-b1-9f2c"
CASE_ID = re.compile(r"(ECO|OIG)-[0-9A-F]{10}")
OIG_ADDRESS, ECO_ADDRESS = "oig-one@example.org", "eco-one@example.org"


@pytest.fixture
def clock(ctx):
    ctx.now = Clock(dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC))
    return ctx.now


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory):
    return make_ca(tmp_path_factory.mktemp("ca"))


def code(ctx, username: str) -> str:
    ctx.now.now += dt.timedelta(seconds=31)
    return pyotp.TOTP(enrolments(ctx)[username].totp_secret).at(ctx.now())


def session(ctx, username: str, password: str | None = None):
    return officers.current(ctx, officers.log_in(ctx, username, password or PASSWORDS[username], code(ctx, username)))


def use_server(ctx, test_ca, port: int, **changes) -> None:
    ctx.settings = dataclasses.replace(ctx.settings, mail=mail_settings(test_ca, port, **changes))


def deliver(ctx):
    def send_one(digest: notifications.Digest) -> None:
        subject, body = compose(digest.language, digest.counts)
        send(ctx.settings.mail, digest.address, subject, body)

    return send_one


def file(ctx, concern: str = "misconduct", text: str = f"{MARKER} invoices were inflated", **answers):
    return reporting.file_report(ctx, validate_report(ctx.policy, [concern], text, answers))


def later(ctx, **delta) -> None:
    ctx.now.now += dt.timedelta(**delta)


def events(ctx) -> int:
    with Session(ctx.engine) as db:
        return db.exec(select(func.count()).select_from(NotificationEvent)).one()


def row(ctx, officer_id: str) -> NotificationAddress:
    with Session(ctx.engine) as db:
        return db.get(NotificationAddress, officer_id)


def test_digests_arrive_with_counts_only_under_one_subject(ctx, clock, test_ca):
    inbox = Inbox()
    with mail_server(test_ca, inbox) as port:
        use_server(ctx, test_ca, port)
        oig = session(ctx, "oig-1")
        notifications.set_address(ctx, oig, OIG_ADDRESS, "en")
        filed = [file(ctx), file(ctx, text=f"{MARKER} a second matter")]
        case_ids = [c.id for f in filed for c in f.cases]
        token = reporting.open_case_room(ctx, filed[0].passphrase)
        reporting.reporter_writes(ctx, token, case_ids[0], f"{MARKER} one more thing")
        file(ctx, concern="retaliation", text=f"{MARKER} for ECO, whose officer gave no address")

        later(ctx, hours=2)
        assert notifications.run(ctx, deliver(ctx)) == notifications.RunResult(sent=1)
        assert len(inbox.mails) == 1
        first = inbox.mails[0]
        assert first["To"] == OIG_ADDRESS and first["Subject"] == SUBJECT
        body = first.get_content()
        assert "2 new reports" in body and "1 new message from a reporter" in body
        assert "2 deadlines due within 2 days" in body  # each report's first response (48 hours)
        raw = first.as_string()
        assert MARKER not in raw and not CASE_ID.search(raw)
        assert not any(case_id in raw for case_id in case_ids)
        assert events(ctx) == 0  # counted, and gone

        later(ctx, minutes=30)  # not yet the next period: nothing is due
        assert notifications.run(ctx, deliver(ctx)) == notifications.RunResult()
        later(ctx, hours=1)  # nothing new; the first responses are still due soon
        assert notifications.run(ctx, deliver(ctx)) == notifications.RunResult(sent=1)
        later(ctx, days=10)  # now overdue
        assert notifications.run(ctx, deliver(ctx)) == notifications.RunResult(sent=1)
        second, third = inbox.mails[1:]
        assert "new report" not in second.get_content() and "2 deadlines due within 2 days" in second.get_content()
        assert "new report" not in third.get_content() and "2 deadlines overdue" in third.get_content()
        for mail in (second, third):
            assert mail["Subject"] == first["Subject"]  # whatever happened
            assert not CASE_ID.search(mail.as_string())


def test_the_subject_is_one_whatever_the_counts_in_every_language():
    kinds = [
        notifications.Counts(),
        notifications.Counts(reports=1),
        notifications.Counts(messages=3),
        notifications.Counts(due_soon=1, overdue=2, reviews_due=1),
    ]
    for lang in i18n.CODES:
        subjects = {compose(lang, counts)[0] for counts in kinds}
        assert len(subjects) == 1, subjects
        bodies = {compose(lang, counts)[1] for counts in kinds}
        assert len(bodies) == len(kinds)  # the counts do differ


def test_a_stopped_mail_server_loses_nothing_and_the_queue_drains_when_it_returns(ctx, clock, test_ca):
    port = free_port()  # nothing listens there yet
    use_server(ctx, test_ca, port)
    oig = session(ctx, "oig-1")
    notifications.set_address(ctx, oig, OIG_ADDRESS, "en")
    file(ctx)
    later(ctx, hours=2)
    assert notifications.run(ctx, deliver(ctx)) == notifications.RunResult(failed=1)
    failed = row(ctx, oig.officer_id)
    assert (failed.attempts, failed.last_failure, failed.seen_event) == (1, "connect", 0)
    assert events(ctx) == 1
    later(ctx, minutes=1)  # backing off: not tried again yet
    assert notifications.run(ctx, deliver(ctx)) == notifications.RunResult()
    later(ctx, minutes=5)
    assert notifications.run(ctx, deliver(ctx)) == notifications.RunResult(failed=1)
    assert row(ctx, oig.officer_id).attempts == 2  # the next wait doubles: 10 minutes
    file(ctx, text=f"{MARKER} filed while the mail server is down")

    inbox = Inbox()
    with mail_server(test_ca, inbox, port=port):
        later(ctx, minutes=10)
        assert notifications.run(ctx, deliver(ctx)) == notifications.RunResult(sent=1)
    assert "2 new reports" in inbox.mails[0].get_content()
    sent = row(ctx, oig.officer_id)
    assert (sent.attempts, sent.last_failure) == (0, None)
    assert events(ctx) == 0
    bodies = [e["action"] for e in audit.entries(ctx.engine)]
    assert bodies.count("notification digest sent") == 1
    with Session(ctx.engine) as db:
        stored = b"".join(e.body for e in db.exec(select(AuditEntry)))
    assert OIG_ADDRESS.encode() not in stored


def test_several_senders_at_once_send_each_digest_once(ctx, clock, test_ca):
    inbox = Inbox()
    with mail_server(test_ca, inbox) as port:
        use_server(ctx, test_ca, port)
        notifications.set_address(ctx, session(ctx, "oig-1"), OIG_ADDRESS, "en")
        file(ctx)
        later(ctx, hours=2)
        results = []
        runners = [threading.Thread(target=lambda: results.append(notifications.run(ctx, deliver(ctx)))) for _ in range(3)]
        for runner in runners:
            runner.start()
        for runner in runners:
            runner.join(30)
    assert len(inbox.mails) == 1
    assert sum(r.sent for r in results) == 1


def test_a_digest_counts_only_cases_the_officer_can_open(ctx, clock, test_ca):
    """A restricted report (about someone in ECO) is counted for ECO's head, not for a member who cannot open it."""
    member_password = "eco member password two"
    sponsor_code = code(ctx, "eco-1")
    enrolments(ctx)["eco-2"] = officers.add_officer(ctx, "eco-1", PASSWORDS["eco-1"], sponsor_code, "eco-2", member_password)
    head, member = session(ctx, "eco-1"), session(ctx, "eco-2", member_password)
    inbox = Inbox()
    with mail_server(test_ca, inbox) as port:
        use_server(ctx, test_ca, port)
        notifications.set_address(ctx, head, ECO_ADDRESS, "en")
        notifications.set_address(ctx, member, "eco-two@example.org", "fr")
        file(ctx, concern="retaliation", text=f"{MARKER} about an ECO officer's husband", office_concerned="someone")
        later(ctx, hours=2)
        assert notifications.run(ctx, deliver(ctx)) == notifications.RunResult(sent=1, quiet=1)
    assert [m["To"] for m in inbox.mails] == [ECO_ADDRESS]
    assert "1 new report" in inbox.mails[0].get_content()


def test_deadlines_and_reviews_due_soon_are_counted(ctx, clock):
    oig = session(ctx, "oig-1")
    notifications.set_address(ctx, oig, OIG_ADDRESS, "en")
    case_id = file(ctx).cases[0].id
    today = ctx.today()
    with Session(ctx.engine) as db, db.begin():
        handling = db.get(Handling, (case_id, "OIG"))
        handling.next_due, handling.next_due_on = "acknowledgement", today + dt.timedelta(days=2)
        db.add(handling)
    with Session(ctx.engine) as db:
        counts = notifications.counts(ctx, db, oig.officer_id, "OIG", 0, 10**9)
    assert (counts.reports, counts.due_soon, counts.overdue, counts.reviews_due) == (1, 1, 0, 0)
    with Session(ctx.engine) as db, db.begin():
        handling = db.get(Handling, (case_id, "OIG"))
        handling.next_due, handling.next_due_on = "measure_review", today - dt.timedelta(days=1)
        db.add(handling)
    with Session(ctx.engine) as db:
        counts = notifications.counts(ctx, db, oig.officer_id, "OIG", 1, 10**9)
    assert (counts.reports, counts.due_soon, counts.overdue, counts.reviews_due) == (0, 0, 0, 1)
    assert "1 protective measure due for review" in compose("en", counts)[1]


def test_the_address_is_sealed_bound_to_its_officer_and_checked(ctx, clock):
    oig, eco = session(ctx, "oig-1"), session(ctx, "eco-1")
    for bad in ("", "no-at-sign", "two@example.org, three@example.org", "x@example.org\r\nBcc: y@example.org", "x@localhost", 5):
        with pytest.raises(Conflict):
            notifications.set_address(ctx, oig, bad, "en")
    assert row(ctx, oig.officer_id) is None  # nothing stored, nothing audited
    assert not [e for e in audit.entries(ctx.engine) if e["action"].startswith("notification")]
    notifications.set_address(ctx, oig, OIG_ADDRESS, "ar")
    notifications.set_address(ctx, eco, ECO_ADDRESS, "en")
    assert notifications.address_of(ctx, oig) == OIG_ADDRESS and notifications.address_of(ctx, eco) == ECO_ADDRESS
    sealed = row(ctx, oig.officer_id).sealed
    assert OIG_ADDRESS.encode() not in sealed
    with pytest.raises(DecryptionError):  # moved onto another officer's row, it opens for nobody
        open_address(notification_key(ctx.instance.lookup_key), sealed, eco.officer_id)
    assert notifications.remove_address(ctx, oig) and not notifications.remove_address(ctx, oig)
    assert notifications.address_of(ctx, oig) is None
    actions = [e["action"] for e in audit.entries(ctx.engine) if e["action"].startswith("notification")]
    assert actions == ["notification address given", "notification address given", "notification address removed"]
    assert not any("example.org" in str(e) for e in audit.entries(ctx.engine))


def test_no_events_pile_up_while_nobody_listens(ctx, clock):
    file(ctx)
    assert events(ctx) == 0
    notifications.set_address(ctx, session(ctx, "oig-1"), OIG_ADDRESS, "en")
    file(ctx, concern="retaliation")  # ECO: nobody there listens
    assert events(ctx) == 0
    file(ctx)
    assert events(ctx) == 1


def test_a_failure_names_its_step_without_the_address(ctx, clock, test_ca, caplog):
    inbox = Inbox()
    with mail_server(test_ca, inbox) as port:
        use_server(ctx, test_ca, port, password="not the password")
        notifications.set_address(ctx, session(ctx, "oig-1"), OIG_ADDRESS, "en")
        file(ctx)
        later(ctx, hours=2)
        with caplog.at_level("WARNING", logger="intake.notifications"):
            assert notifications.run(ctx, deliver(ctx)) == notifications.RunResult(failed=1)
    assert "(auth)" in caplog.text and OIG_ADDRESS not in caplog.text
    with pytest.raises(MailFailure) as failed:
        send(dataclasses.replace(ctx.settings.mail, host=None), OIG_ADDRESS, "s", "b")
    assert failed.value.stage == "config"


def test_a_disabled_officer_gets_no_more_digests(ctx, clock):
    member_password = "eco member password two"
    sponsor_code = code(ctx, "eco-1")
    enrolments(ctx)["eco-2"] = officers.add_officer(ctx, "eco-1", PASSWORDS["eco-1"], sponsor_code, "eco-2", member_password)
    member = session(ctx, "eco-2", member_password)
    notifications.set_address(ctx, member, "eco-two@example.org", "en")
    assert row(ctx, member.officer_id) is not None
    officers.disable(ctx, "eco-1", PASSWORDS["eco-1"], code(ctx, "eco-1"), "eco-2")
    assert row(ctx, member.officer_id) is None

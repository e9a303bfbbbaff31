"""The `intake` command: set up an instance, serve it, add officers, verify the audit log."""

import argparse
import getpass
import json
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy.exc import OperationalError, ProgrammingError

from crypto import PRODUCTION_ARGON2, Argon2Params, AuditChainError, CryptoError
from policies import PolicyError, load_policy

from .database_blobs import NotForSqlite
from .logs import log_config
from .service import audit, blob_moves, casework, nodes, officers, retention
from .service.context import Context
from .service.errors import AuthenticationFailed, Conflict, TooManyAttempts
from .settings import Instance, Settings
from .store import make_engine, migrate, schema_revision

DEMO_WARNING = "DEMO ONLY: these credentials are for trying the service out. Never use a demo instance for real reports."


def _read_secret(prompt: str, from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise SystemExit(f"expected a line on standard input for: {prompt}")
        return line.rstrip("\n")
    return getpass.getpass(prompt)


def _founder(code: str, args: argparse.Namespace, taken: set[str]) -> tuple[str, str]:
    """The first officer of an office: (username, password), checked. At a terminal a wrong answer is asked
    again; from a script (--password-stdin, or input that is not a terminal) it ends the command."""
    if args.demo:
        return f"{code.lower()}-demo", secrets.token_urlsafe(12)
    at_terminal = sys.stdin.isatty() and not args.password_stdin

    def asked(question: Callable[[], str], check: Callable[[str], str]) -> str:
        while True:
            answer = question()
            try:
                return check(answer)
            except ValueError as wrong:
                if not at_terminal:
                    raise SystemExit(f"intake: {wrong}; nothing was made.") from None
                print(f"  {wrong}; try again.", file=sys.stderr)

    def new_username(username: str) -> str:
        if username in taken:
            raise ValueError(f"{username} is the other office's first officer already")
        return officers.check_username(username)

    username = asked(lambda: input(f"Username of the first {code} officer: ").strip(), new_username)
    prompt = f"Password for {username} ({officers.MIN_PASSWORD_CHARS} characters or more): "
    return username, asked(lambda: _read_secret(prompt, args.password_stdin), officers.check_new_password)


def cmd_init(settings: Settings, args: argparse.Namespace) -> int:
    if settings.instance_path.exists():
        print(f"{settings.data_dir} already holds an instance; nothing done.", file=sys.stderr)
        return 1
    argon2 = Argon2Params(args.argon2_time_cost, args.argon2_memory_kib, 1)
    if argon2.time_cost < PRODUCTION_ARGON2.time_cost or argon2.memory_kib < PRODUCTION_ARGON2.memory_kib:
        print(
            f"WARNING: Argon2 t={argon2.time_cost}, m={argon2.memory_kib} KiB is weaker than the production default "
            f"(t={PRODUCTION_ARGON2.time_cost}, m={PRODUCTION_ARGON2.memory_kib} KiB). Use it for tests only.",
            file=sys.stderr,
        )
    # Every answer is asked for and checked, and the database looked at, before anything is made: a
    # mistake (a short password, input that ends, a database already in use) leaves no half-made
    # instance for the next `intake init` to refuse.
    founders: list[tuple[str, str, str]] = []
    for code in ("ECO", "OIG"):
        username, password = _founder(code, args, taken={u for _, u, _ in founders})
        founders.append((code, username, password))
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # SQLite's database is kept in it
    engine = make_engine(settings.database_url)
    if schema_revision(engine)[0] is not None:
        raise SystemExit(
            "intake: the database already holds an instance's tables; nothing was made. Give an empty database "
            "(or use `intake restore`, or `intake node join` for another machine of that instance)."
        )
    settings.write_instance(Instance.create(argon2))
    try:
        migrate(engine)
    except BaseException:
        settings.instance_path.unlink(missing_ok=True)  # nothing to refuse the next try
        raise
    ctx = Context.from_settings(settings)
    credentials = []
    for code, username, password in founders:
        enrolment = officers.found_office(ctx, code, username, password)
        credentials.append(
            {
                "office": code,
                "username": username,
                "password": password,
                "recovery_key": enrolment.recovery_key,
                "totp_secret": enrolment.totp_secret,
                "totp_uri": enrolment.totp_uri,
            }
        )
        if not args.demo:
            print(f"{code}: officer {username} enrolled.")
            _show_once(enrolment)
    if args.demo:
        path = settings.data_dir / "demo-credentials.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"WARNING": DEMO_WARNING, "officers": credentials}, out, indent=2)
        print(f"Demo instance made in {settings.data_dir}. {DEMO_WARNING}\nOfficer logins: {path}")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    settings.load_instance()
    engine = make_engine(settings.database_url)
    current, head = schema_revision(engine)
    if current != head:
        print(f"The database is at revision {current}, this code needs {head}: run `intake migrate` first.", file=sys.stderr)
        return 1
    misplaced = blob_moves.misplaced(settings)
    if misplaced:
        other = "the data directory's blobs/" if settings.blobs == "database" else "the database"
        print(
            f"INTAKE_BLOBS={settings.blobs}, but files are kept in {other}: the service would not find them. "
            f"Run `intake blobs move --to {settings.blobs}` first (or set INTAKE_BLOBS to where they are).",
            file=sys.stderr,
        )
        return 1
    headless = officers.offices_without_head(engine)
    if headless:
        # A restricted report goes to the office's heads: without one it could not be filed.
        print(
            f"No active head in {', '.join(headless)}: name one first, "
            "`intake officer role --by <a member> --username <officer> --role head`.",
            file=sys.stderr,
        )
        return 1
    os.environ["INTAKE_DATA_DIR"] = str(settings.data_dir)
    os.environ["INTAKE_DATABASE_URL"] = settings.database_url
    print(f"Serving on http://{args.host}:{args.port}/ (officers: /officer)", flush=True)
    uvicorn.run(
        "intake.app:make_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,  # an access log would record who reported when
        proxy_headers=False,
        server_header=False,
        log_level="warning",
        log_config=log_config(),  # tracebacks without exception messages: they may quote what was sent
    )
    return 0


def _show_once(enrolment: officers.Enrolment) -> None:
    print("Shown once; the officer keeps both, offline:")
    print(f"  recovery key:             {enrolment.recovery_key}")
    print(f"  authenticator (TOTP) URI: {enrolment.totp_uri}")


REFUSALS = (ValueError, AuthenticationFailed, TooManyAttempts, Conflict)
T = TypeVar("T")


def _or_refused(what: str, call: Callable[[], T]) -> T:
    """Run one service call; a refusal (wrong password, a rule of the office) is printed as
    "not <what>: <why>" and ends the command with status 1, with no traceback."""
    try:
        return call()
    except REFUSALS as refused:
        print(f"not {what}: {refused}", file=sys.stderr)
        raise SystemExit(1) from None


def _sponsor(args: argparse.Namespace) -> tuple[str, str]:
    password = _read_secret(f"Password of {args.sponsor}: ", args.password_stdin)
    return password, _read_secret(f"Authentication code of {args.sponsor}: ", args.password_stdin)


def cmd_officer_add(settings: Settings, args: argparse.Namespace) -> int:
    ctx = Context.from_settings(settings)
    sponsor_password, sponsor_code = _sponsor(args)
    new_password = _read_secret(f"Password for the new officer {args.username}: ", args.password_stdin)
    enrolment = _or_refused(
        "added", lambda: officers.add_officer(ctx, args.sponsor, sponsor_password, sponsor_code, args.username, new_password)
    )
    print(f"{enrolment.username} is now a member of {enrolment.office}.")
    _show_once(enrolment)
    return 0


def cmd_officer_password(settings: Settings, args: argparse.Namespace) -> int:
    ctx = Context.from_settings(settings)
    password = _read_secret(f"Current password of {args.username}: ", args.password_stdin)
    code = _read_secret("Authentication code: ", args.password_stdin)
    new_password = _read_secret("New password: ", args.password_stdin)
    _or_refused("changed", lambda: officers.change_password(ctx, args.username, password, code, new_password))
    print(f"Password of {args.username} changed; their other sessions have ended.")
    return 0


def cmd_officer_recover(settings: Settings, args: argparse.Namespace) -> int:
    ctx = Context.from_settings(settings)
    recovery = _read_secret(f"Recovery key of {args.username}: ", args.password_stdin)
    code = _read_secret("Authentication code: ", args.password_stdin)
    new_password = _read_secret("New password: ", args.password_stdin)
    new_recovery = _or_refused("recovered", lambda: officers.recover(ctx, args.username, recovery, code, new_password))
    print(f"New password set for {args.username}. The old recovery key no longer works; the new one, shown once:")
    print(f"    {new_recovery}")
    return 0


def cmd_officer_disable(settings: Settings, args: argparse.Namespace) -> int:
    ctx = Context.from_settings(settings)
    sponsor_password, sponsor_code = _sponsor(args)
    _or_refused("disabled", lambda: officers.disable(ctx, args.sponsor, sponsor_password, sponsor_code, args.username))
    print(f"{args.username} is disabled: their office-key wrap and restricted-case wraps are gone, their sessions ended.")
    print("What the office key opened, a copy of their key still opens. Rotate it now:")
    print(f"    intake office rotate --username {args.sponsor}")
    return 0


def cmd_officer_role(settings: Settings, args: argparse.Namespace) -> int:
    ctx = Context.from_settings(settings)
    password = _read_secret(f"Password of {args.by}: ", args.password_stdin)
    code = _read_secret("Authentication code: ", args.password_stdin)
    withhold = tuple(args.withhold or ())
    change = _or_refused(
        "changed",
        lambda: officers.set_role(ctx, args.by, password, code, args.username, args.role == "head", withhold, args.dry_run),
    )
    if args.dry_run:
        print("Dry run: nothing was changed. Without --dry-run:")
    if not change.head:
        print(f"{change.username} becomes a member of the office; the restricted cases wrapped to them stay theirs.")
        return 0
    if change.first_head:
        print(f"The office has no head: {args.by}, a member, names the first (any member may, while an office has none).")
    print(f"{change.username} {'becomes' if args.dry_run else 'is now'} a head of the office.")
    _print_cases("Restricted cases shared with them (the complainants are told in the case room)", change.shared)
    if not change.shared:
        print("No restricted case is shared with them.")
    _print_cases("Shared although you declared a conflict on them, as nobody could open them", change.rescued)
    _print_cases("Withheld, as you said they are about them (audit-logged)", change.withheld)
    _print_cases("Not shared: they declared a conflict of interest on these", change.declared)
    _print_cases("Not shared: you declared a conflict of interest on these; another holder must share them", change.stepped_away)
    _print_cases("Not shared: you hold no key to these; a head who holds them must share them", change.not_held)
    _print_cases("They can open these already", change.already)
    return 0


def _print_cases(title: str, cases: tuple[str, ...]) -> None:
    """One group of case ids, one a line; a group with none is left out."""
    if cases:
        print(f"{title} ({len(cases)}):")
        for case_id in cases:
            print(f"    {case_id}")


def cmd_office_rotate(settings: Settings, args: argparse.Namespace) -> int:
    from .service import office_keys

    ctx = Context.from_settings(settings)
    password = _read_secret(f"Password of {args.username}: ", args.password_stdin)
    code = _read_secret(f"Authentication code of {args.username}: ", args.password_stdin)
    done = _or_refused("rotated", lambda: office_keys.rotate(ctx, args.username, password, code))
    print(
        f"The {done.office} office key is new: {done.cases} case keys and {done.identities} identities re-wrapped, "
        f"{done.handlings} handling keys new (their records sealed again); wrapped for {done.officers} active officers, "
        "whose sessions ended. Restricted cases are held by keys of their own and were left as they are. "
        "Case keys cannot change without the reporter: what is written later under an existing case's key "
        "opens with an old copy (SECURITY.md)."
    )
    return 0


def cmd_officer_totp(settings: Settings, args: argparse.Namespace) -> int:
    ctx = Context.from_settings(settings)
    password = _read_secret(f"Password of {args.username}: ", args.password_stdin)
    secret = _or_refused("set up", lambda: officers.set_up_totp(ctx, args.username, password))
    print(f"Authenticator (TOTP) secret, shown once: {secret}")
    return 0


def cmd_audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    ctx = Context.from_settings(settings)
    try:
        last, digest = audit.verify(ctx.engine, ctx.instance, args.expect)
    except ValueError as malformed:
        print(f"intake audit verify: {malformed}", file=sys.stderr)
        return 2
    except AuditChainError as broken:
        print(f"audit log BROKEN at entry {broken.index}: {broken.reason}", file=sys.stderr)
        return 1
    print(f"audit log intact: {last} entries, head {last}:{digest.hex()}")
    print(f"instance audit verify key: {ctx.instance.audit_verify_key.hex()}")
    print("Keep the head off this server; pass it to --expect next time to detect entries removed since.")
    return 0


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_engine(settings.database_url)
    before, head = schema_revision(engine)
    migrate(engine, args.revision)
    now = schema_revision(engine)[0]
    print(f"database migrated from {before or 'empty'} to {now} (head is {head})")
    if now == head and settings.instance_path.exists():
        # The inbox sorts on each handling's next deadline, kept in its row: compute it for the rows
        # an earlier version wrote (and after any change of the policy's deadlines).
        ctx = Context.from_settings(settings)
        print(f"next deadlines recomputed for {casework.refresh_all(ctx)} handlings")
        if audit.sign_head(ctx.engine, ctx.instance):
            print("audit head signed (the chain verified up to it)")
    return 0


def _backup_passphrase(args: argparse.Namespace, confirm: bool) -> str:
    passphrase = _read_secret("Backup passphrase (16 characters or more): ", args.passphrase_stdin)
    if confirm and not args.passphrase_stdin and getpass.getpass("Again: ") != passphrase:
        raise SystemExit("the passphrases differ")
    return passphrase


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    from .service import backup

    ctx = Context.from_settings(settings)
    try:
        counts = backup.write_backup(ctx, Path(args.out), _backup_passphrase(args, confirm=True))
    except (backup.BackupError, FileExistsError) as refused:
        print(f"no backup written: {refused}", file=sys.stderr)
        return 1
    print(f"encrypted backup written to {args.out}: {counts['rows']} rows, {counts['blobs']} blobs")
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    from .service import backup

    try:
        counts = backup.restore_backup(settings, Path(args.source), _backup_passphrase(args, confirm=False))
    except backup.BackupError as refused:
        print(f"not restored: {refused}", file=sys.stderr)
        return 1
    print(f"restored into {settings.data_dir}: {counts['rows']} rows, {counts['blobs']} blobs", end=" ")
    print(f"(schema {counts['revision']}, now at head)")
    return 0


def cmd_blobs_move(settings: Settings, args: argparse.Namespace) -> int:
    done = blob_moves.move_blobs(settings, args.to)
    print(f"{done.moved} file(s) moved to the {args.to} store, {done.already} there already.")
    if done.missing:
        print(f"{done.missing} file(s) of cases were in neither store (lost before this move).", file=sys.stderr)
    print(f"Now set INTAKE_BLOBS={args.to} wherever the service runs, and start it.")
    return 1 if done.missing else 0


def cmd_node_join(settings: Settings, args: argparse.Namespace) -> int:
    try:
        joined = nodes.join(settings, Path(args.instance_file))
    except nodes.JoinRefused as refused:
        print(f"not joined: {refused}", file=sys.stderr)
        return 1
    print(f"{joined.data_dir} is now a node of the instance (audit head {joined.audit_entries}, its signature verified).")
    print("Start it with the same environment as the other nodes: `intake serve`.")
    return 0


def cmd_purge(settings: Settings, args: argparse.Namespace) -> int:
    ctx = Context.from_settings(settings)
    done = retention.purge(ctx, dry_run=args.dry_run)
    verb = "would purge" if args.dry_run else "purged"
    for candidate in done:
        print(f"{verb} {candidate.case_id} (closed on {candidate.closed_on})")
    print(f"{len(done)} case(s) {verb}; retention is {ctx.policy.retention_closed_case_days} days after closing.")
    return 0


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from .annual_report import write_both
    from .service import statistics

    ctx = Context.from_settings(settings)
    password = _read_secret(f"Password of {args.username}: ", args.password_stdin)
    code = _read_secret("Authentication code: ", args.password_stdin)
    officer = _or_refused(
        "unlocked", lambda: officers.current(ctx, officers.log_in(ctx, args.username, password, code, at_the_server=True))
    )
    try:
        internal, publication = statistics.eco_annual_report(ctx, officer, args.year)
    except Conflict as refused:
        print(str(refused), file=sys.stderr)
        return 1
    for path in write_both(internal, publication, Path(args.out), args.lang):
        print(path)
    print(f"internal (exact counts, for ECO only): {Path(args.out) / 'internal' / 'report.html'}")
    print(f"publication draft: {Path(args.out) / 'publication' / 'report.html'}")
    return 0


# --- Notifications (`intake notify ...`): kept in one block, added to the parser by `_notify_commands`.


def cmd_notify_test(settings: Settings, args: argparse.Namespace) -> int:
    """Send a test mail to `--to` and say which step failed, if one did (mailer.STAGES)."""
    from .digest_mail import compose
    from .mailer import MailFailure, parse_address, send
    from .service.notifications import Counts

    try:
        to = parse_address(args.to)
    except ValueError:
        print(f"not sent: {args.to!r} is not one e-mail address", file=sys.stderr)
        return 2
    subject, body = compose("en", Counts())
    mail = settings.mail
    try:
        send(mail, to, subject, body)
    except MailFailure as failed:
        print(f"not sent: {failed.stage} failed: {failed.detail}", file=sys.stderr)
        return 1
    security = "implicit TLS" if mail.security == "tls" else "STARTTLS"
    auth = f", authenticated as {mail.user}" if mail.user else ", without authentication"
    print(f"sent: {mail.host} port {mail.port} accepted a test digest for {to} ({security}{auth})")
    return 0


def cmd_notify_run(settings: Settings, args: argparse.Namespace) -> int:
    """Send every digest that is due (run by a timer every few minutes; several at once send each digest once)."""
    from .digest_mail import compose
    from .mailer import send
    from .service import notifications

    problems = settings.mail.problems()
    if problems:
        print("notifications cannot be sent: " + "; ".join(problems), file=sys.stderr)
        return 2
    ctx = Context.from_settings(settings)

    def deliver(digest: notifications.Digest) -> None:
        subject, body = compose(digest.language, digest.counts)
        send(settings.mail, digest.address, subject, body)

    try:
        done = notifications.run(ctx, deliver)
        waiting = notifications.pending(ctx)
    finally:
        ctx.engine.dispose()  # a timer's run ends here: its connections close now
    print(
        f"digests sent: {done.sent}, due with nothing to say: {done.quiet}, failed (tried again later): {done.failed}; "
        f"{waiting['addresses']} officers have an address, {waiting['retrying']} wait for a retry"
    )
    return 1 if done.failed else 0


def _notify_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    notify = commands.add_parser("notify", help="content-free notification digests by e-mail (INTAKE_SMTP_*)")
    steps = notify.add_subparsers(dest="notify_command", required=True)
    test = steps.add_parser("test", help="send a test digest and say exactly what failed: dns, connect, tls, auth, refused")
    test.add_argument("--to", required=True, help="the address to send the test to")
    test.set_defaults(run=cmd_notify_test)
    run = steps.add_parser("run", help="send the digests that are due (a systemd timer runs it every few minutes)")
    run.set_defaults(run=cmd_notify_run)


# Sealed case export (issue 27): `intake export`, and `intake bundle keygen / verify / open`, which
# need no instance (an investigator runs them on a machine without the service).


def _export_passphrase(args: argparse.Namespace) -> str:
    passphrase = _read_secret("Export passphrase (16 characters or more; tell the investigator apart): ", args.password_stdin)
    if not args.password_stdin and getpass.getpass("Again: ") != passphrase:
        raise SystemExit("the passphrases differ")
    return passphrase


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    ctx = Context.from_settings(settings)
    try:
        return _export(ctx, args)
    finally:
        ctx.engine.dispose()


def _export(ctx: Context, args: argparse.Namespace) -> int:
    from .service import bundles, export
    from .service.errors import NotFound

    recipient = _or_refused("exported", lambda: bundles.parse_public_key(args.to_key)) if args.to_key else None
    password = _read_secret(f"Password of {args.username}: ", args.password_stdin)
    code = _read_secret("Authentication code: ", args.password_stdin)
    passphrase = None if recipient else _or_refused("exported", lambda: bundles.check_passphrase(_export_passphrase(args)))
    officer = _or_refused(
        "exported", lambda: officers.current(ctx, officers.log_in(ctx, args.username, password, code, at_the_server=True))
    )
    bundle_id = bundles.new_bundle_id()
    if recipient is not None:
        lock = bundles.key_lock(recipient, bundle_id)
    else:
        lock = bundles.passphrase_lock(passphrase or "", ctx.gate.run, ctx.instance.argon2)
    out = Path(args.out)
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        print(f"not exported: {out} exists already", file=sys.stderr)
        return 1
    try:
        with os.fdopen(fd, "wb") as target:
            done = export.export_case(ctx, officer, args.case, lock, bundle_id, target)
    except (NotFound, Conflict) as refused:
        out.unlink(missing_ok=True)
        print(f"not exported: {refused}", file=sys.stderr)
        return 1
    except (CryptoError, bundles.BundleError):
        out.unlink(missing_ok=True)
        print("not exported: a stored file of the case does not open as it was stored (damaged)", file=sys.stderr)
        return 1
    except BaseException:
        out.unlink(missing_ok=True)  # never a partial bundle left behind with no audit entry
        raise
    print(f"case {done.case_id} exported to {out}: {done.files} file(s), {done.size} bytes, sealed to the {lock.sealed}")
    print(f"bundle {done.bundle_id}, SHA-256 {done.sha256} (in the audit log: the chain of custody starts there)")
    print(f"signed by the instance key {ctx.instance.audit_verify_key.hex()}: tell the investigator apart (--verify-key)")
    return 0


def cmd_bundle_keygen(settings: Settings, args: argparse.Namespace) -> int:
    from .service import bundles

    secret, public = bundles.new_investigator_key()
    try:
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        print(f"no key written: {args.out} exists already", file=sys.stderr)
        return 1
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secret.hex() + "\n")
    print(f"secret key written to {args.out}: keep it on this machine, offline if you can")
    print(f"public key (give it to the officer who exports, for --to-key or the export page): {public.hex()}")
    return 0


def _opening(args: argparse.Namespace) -> dict:
    """What `bundle verify` and `bundle open` are given to decrypt and to check the signer."""
    from .service import bundles

    secret_key = passphrase = verify_key = None
    if args.verify_key:
        try:
            verify_key = bundles.parse_public_key(args.verify_key)  # the same form: 64 hexadecimal digits
        except ValueError:
            raise SystemExit("--verify-key is the instance verify key that `intake audit verify` prints: 64 hex digits") from None
    if args.secret_key:
        try:
            secret_key = bundles.parse_public_key(Path(args.secret_key).read_text(encoding="ascii", errors="replace"))
        except (OSError, ValueError):
            raise SystemExit(f"{args.secret_key} is not a secret key file as `intake bundle keygen` writes it") from None
    else:
        passphrase = _read_secret("Export passphrase: ", args.passphrase_stdin)
    return {"passphrase": passphrase, "secret_key": secret_key, "verify_key": verify_key}


def _report_bundle(opened, verify_key_given: bool) -> None:
    m = opened.manifest
    print(f"case {m.get('case')} of {m.get('office')}, exported by {m.get('exported_by')} at {m.get('exported_at')}")
    print(f"{len(opened.items)} items, each matching its SHA-256 in the signed manifest")
    if verify_key_given:
        print(f"signed by the instance key you gave: {opened.signer}")
    else:
        print(f"signed by {opened.signer}: NOT CHECKED against a key you trust. Compare it with the instance")
        print("verify key (`intake audit verify` prints it), or pass it with --verify-key.")


def cmd_bundle_verify(settings: Settings, args: argparse.Namespace) -> int:
    from .service import bundles

    path = Path(args.bundle)
    print(f"SHA-256 of the file: {bundles.sha256_of(path)} (the audit log's entry for the export records it)")
    try:
        opened = bundles.open_bundle(path, **_opening(args))
    except bundles.BundleError as broken:
        print(f"bundle NOT verified: {broken}", file=sys.stderr)
        return 1
    _report_bundle(opened, bool(args.verify_key))
    return 0


def cmd_bundle_open(settings: Settings, args: argparse.Namespace) -> int:
    from .service import bundles

    path, out = Path(args.bundle), Path(args.out)
    try:
        opened = bundles.open_bundle(path, out=out, **_opening(args))
    except FileExistsError:
        print(f"not opened: {out} exists already; name a new folder", file=sys.stderr)
        return 1
    except bundles.BundleError as broken:
        print(f"bundle NOT opened (nothing kept in {out}): {broken}", file=sys.stderr)
        return 1
    _report_bundle(opened, bool(args.verify_key))
    print(f"opened into {out}: case.json, messages.json, history.json, files/, manifest.json and manifest.sig")
    return 0


def add_export_commands(commands) -> None:
    """`intake export` and `intake bundle ...` (kept apart from the other commands' parsers)."""
    exporting = commands.add_parser("export", help="one sealed, signed bundle of a case your office can open")
    exporting.add_argument("--case", required=True, help="the case id")
    exporting.add_argument("--username", required=True, help="an officer who can open the case; unlocks with password and code")
    exporting.add_argument("--out", required=True, help="the bundle file to write (must not exist)")
    exporting.add_argument(
        "--to-key", metavar="HEX", help="seal to an investigator's public key (`intake bundle keygen`) instead of a passphrase"
    )
    exporting.add_argument(
        "--password-stdin", action="store_true", help="read the password, code and export passphrase from stdin, one a line"
    )
    exporting.set_defaults(run=cmd_export)

    bundle = commands.add_parser("bundle", help="case bundles, without an instance").add_subparsers(
        dest="bundle_command", required=True
    )
    keygen = bundle.add_parser("keygen", help="an investigator's keypair: bundles can be sealed to its public key")
    keygen.add_argument("--out", required=True, help="file for the secret key (must not exist)")
    keygen.set_defaults(run=cmd_bundle_keygen)
    for name, run, helptext in [
        ("verify", cmd_bundle_verify, "decrypt a bundle and check its signed manifest and every digest"),
        ("open", cmd_bundle_open, "verify a bundle and write what it holds into a new folder"),
    ]:
        sub = bundle.add_parser(name, help=helptext)
        sub.add_argument("bundle", help="the bundle file")
        if name == "open":
            sub.add_argument("--out", required=True, help="a folder to create for the case")
        sub.add_argument("--secret-key", help="the investigator's secret key file, for a bundle sealed to a key")
        sub.add_argument("--passphrase-stdin", action="store_true", help="read the export passphrase from standard input")
        sub.add_argument("--verify-key", metavar="HEX", help="the instance's verify key: the signature must be by it")
        sub.set_defaults(run=run)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="intake", description=__doc__)
    top.add_argument("--data-dir", help="instance directory (default: $INTAKE_DATA_DIR or ./var)")
    top.add_argument("--database-url", help="database (default: $INTAKE_DATABASE_URL or SQLite in the data directory)")
    commands = top.add_subparsers(dest="command", required=True)

    init = commands.add_parser("init", help="make a new instance: secrets, offices, first officers")
    init.add_argument(
        "--demo", action="store_true", help="demo officers, credentials written to <data-dir>/demo-credentials.json"
    )
    init.add_argument("--password-stdin", action="store_true", help="read passwords from standard input, one a line")
    init.add_argument("--argon2-time-cost", type=int, default=PRODUCTION_ARGON2.time_cost)
    init.add_argument("--argon2-memory-kib", type=int, default=PRODUCTION_ARGON2.memory_kib)
    init.set_defaults(run=cmd_init)

    serve = commands.add_parser("serve", help="serve the web app (no access log)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(run=cmd_serve)

    office = commands.add_parser("office", help="an office's key").add_subparsers(dest="office_command", required=True)
    rotate = office.add_parser("rotate", help="a new office key; every case re-wrapped; run after disabling an officer")
    rotate.add_argument("--username", required=True, help="an active officer of the office, who unlocks the current key")
    rotate.add_argument("--password-stdin", action="store_true", help="read the password, then the code, from standard input")
    rotate.set_defaults(run=cmd_office_rotate)
    officer = commands.add_parser("officer", help="officer accounts").add_subparsers(dest="officer_command", required=True)
    add = officer.add_parser("add", help="the key ceremony: a member wraps the office key for a new officer")
    add.add_argument("--sponsor", required=True, help="username of an existing member of the office")
    add.add_argument("--username", required=True, help="the new officer's username")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the sponsor's password and code, then the new password, from standard input",
    )
    add.set_defaults(run=cmd_officer_add)
    role = officer.add_parser("role", help="make an officer head of their office (sees conflict declarations), or a member")
    role.add_argument("--by", required=True, help="a head of the office (or, while it has none, any member)")
    role.add_argument("--username", required=True)
    role.add_argument("--role", required=True, choices=["head", "member"])
    role.add_argument(
        "--withhold",
        action="append",
        metavar="CASE-ID",
        help="naming a head: a restricted case about them, not to be shared with them (repeat for each); "
        "every other restricted case you hold is shared with the new head",
    )
    role.add_argument("--dry-run", action="store_true", help="list what would be shared and withheld; change nothing")
    role.add_argument("--password-stdin", action="store_true", help="read the password of --by, then the code, from stdin")
    role.set_defaults(run=cmd_officer_role)
    for name, run, helptext, sponsor in [
        ("password", cmd_officer_password, "change an officer's password (re-encrypts their private key)", False),
        ("recover", cmd_officer_recover, "set a new password with the recovery key (and an authentication code)", False),
        ("disable", cmd_officer_disable, "disable an officer of your office and remove their office-key wrap", True),
        ("totp", cmd_officer_totp, "set up two-factor for an account made before it existed", False),
    ]:
        sub = officer.add_parser(name, help=helptext)
        if sponsor:
            sub.add_argument("--sponsor", required=True, help="your username (a member of the same office)")
        sub.add_argument("--username", required=True)
        sub.add_argument(
            "--password-stdin", action="store_true", help="read the secrets asked for from standard input, one a line"
        )
        sub.set_defaults(run=run)

    migrate_cmd = commands.add_parser("migrate", help="bring the database schema up to date (Alembic)")
    migrate_cmd.add_argument("--revision", default="head")
    migrate_cmd.set_defaults(run=cmd_migrate)

    backup_cmd = commands.add_parser("backup", help="write one encrypted archive of the database, blobs and instance secrets")
    backup_cmd.add_argument("--out", required=True)
    backup_cmd.add_argument("--passphrase-stdin", action="store_true")
    backup_cmd.set_defaults(run=cmd_backup)

    restore_cmd = commands.add_parser("restore", help="restore an encrypted archive into an empty instance")
    restore_cmd.add_argument("--in", dest="source", required=True)
    restore_cmd.add_argument("--passphrase-stdin", action="store_true")
    restore_cmd.set_defaults(run=cmd_restore)

    blobs = commands.add_parser("blobs", help="where files are kept").add_subparsers(dest="blobs_command", required=True)
    move = blobs.add_parser("move", help="move every file between the data directory and the database (stop the service first)")
    move.add_argument("--to", required=True, choices=["database", "filesystem"])
    move.set_defaults(run=cmd_blobs_move)

    node = commands.add_parser("node", help="several machines serving one instance").add_subparsers(
        dest="node_command", required=True
    )
    join = node.add_parser("join", help="make this machine's data directory a node: it needs only the instance file")
    join.add_argument(
        "--instance-file", required=True, help="a copy of instance.json from a node of the instance (copied over SSH, say)"
    )
    join.set_defaults(run=cmd_node_join)

    purge = commands.add_parser("purge", help="crypto-shred cases closed longer than the retention period")
    purge.add_argument("--dry-run", action="store_true", help="list what would be purged, change nothing")
    purge.set_defaults(run=cmd_purge)

    report = commands.add_parser("report", help="ECO annual-report figures for a year (an ECO officer unlocks)")
    report.add_argument("--year", type=int, required=True)
    report.add_argument("--username", required=True, help="an ECO officer, who unlocks with their password")
    report.add_argument("--password-stdin", action="store_true")
    report.add_argument(
        "--out", default="annual-report", help="directory for internal/ (exact counts) and publication/ (the draft to publish)"
    )
    report.add_argument("--lang", default="en", choices=["en", "fr", "es", "ar"], help="the report's language")
    report.set_defaults(run=cmd_report)

    audit_cmd = commands.add_parser("audit", help="the audit log").add_subparsers(dest="audit_command", required=True)
    verify = audit_cmd.add_parser("verify", help="check the hash chain and signed checkpoints")
    verify.add_argument(
        "--expect", metavar="SEQ:DIGEST", help="a head printed by an earlier verify; the chain must still contain it"
    )
    verify.set_defaults(run=cmd_audit_verify)
    _notify_commands(commands)

    add_export_commands(commands)
    return top


def main(argv: list[str] | None = None) -> int:
    # Everything the service writes (the SQLite database, blobs, backups, reports) is for its own
    # user alone: files 0600, directories 0700, whatever the caller's umask.
    os.umask(0o077)
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env(args.data_dir, args.database_url)
    except ValueError as error:  # an INTAKE_* variable or the database URL
        print(f"intake: {error}", file=sys.stderr)
        return 2
    try:
        load_policy(settings.policy_file)
    except (PolicyError, OSError) as error:
        print(f"intake: the policy cannot be used, nothing was started.\n{error}", file=sys.stderr)
        return 2
    try:
        return args.run(settings, args)
    except MISTAKES as error:
        print(f"intake: {_mistake(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("intake: interrupted", file=sys.stderr)
        return 130


# What a person's mistake raises (a path that is not there, a database that cannot be reached, a
# schema not migrated, stdin closed): one line that says what, never a traceback. Anything else is
# a fault of ours, and keeps its traceback.
MISTAKES = (OSError, EOFError, OperationalError, ProgrammingError, NotForSqlite)


def _mistake(error: BaseException) -> str:
    if isinstance(error, OperationalError):
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        hint = " (does the data directory exist? `intake init` makes it)" if "unable to open database" in reason else ""
        return f"the database cannot be used: {reason}{hint}"
    if isinstance(error, ProgrammingError):
        return "the database does not hold this version's tables: run `intake init` for a new instance, or `intake migrate`"
    if isinstance(error, EOFError):
        return "standard input ended before every answer was given"
    if isinstance(error, OSError):
        return f"{error.strerror or error}: {error.filename}" if error.filename else str(error.strerror or error)
    return str(error)


if __name__ == "__main__":
    sys.exit(main())

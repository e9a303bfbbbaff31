"""Exporting a case as a sealed bundle: a page that asks how to seal it and for a tick, then the
download. Sensitive, not irreversible: the officer confirms, and the export is audit-logged with
the file's digest before any byte of it is sent (intake/service/export.py)."""

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from crypto import Argon2Params, CryptoError
from intake import i18n
from intake.service import bundles, export
from intake.service.errors import Conflict
from intake.service.officers import OfficerSession
from intake.web.forms import read_small_form
from intake.web.templating import context_of, render, translate
from policies.text import N_

from .login import officer_page

NOT_CONFIRMED = N_("Tick the box to confirm that you take the case out of the service.")
SHORT_PASSPHRASE = N_("The passphrase has 16 characters or more.")
PASSPHRASES_DIFFER = N_("The two passphrases differ.")
DAMAGED = N_("A stored file of this case does not open as it was stored (damaged): nothing was exported.")
NOT_A_KEY = N_("An investigator's public key is 64 hexadecimal digits, as intake bundle keygen prints it.")


def _form(
    request: Request, officer: OfficerSession, case_id: str, error: str | None = None, status_code: int = 400, **kept: str
) -> Response:
    return render(
        request,
        "caseroom/officer/export.html",
        status_code=status_code if error else 200,
        officer=officer,
        case_id=case_id,
        error=error,
        sealed=kept.get("sealed", "passphrase"),
        public_key=kept.get("public_key", ""),
        verify_key=context_of(request).instance.audit_verify_key.hex(),
    )


@officer_page
async def export_page(request: Request, officer: OfficerSession) -> Response:
    case_id = request.path_params["case_id"]
    await run_in_threadpool(export.check, context_of(request), officer, case_id)
    return _form(request, officer, case_id)


def _lock(form, bundle_id: str, run, argon2: Argon2Params) -> bundles.Lock:
    """The lock the form asks for, or Conflict saying (translatably) what to change."""
    if form.get("confirm") != "yes":
        raise Conflict(NOT_CONFIRMED)
    if form.get("sealed") == "key":
        try:
            return bundles.key_lock(bundles.parse_public_key(form.get("public_key")), bundle_id)
        except ValueError:
            raise Conflict(NOT_A_KEY) from None
    passphrase = form.get("passphrase")
    if len(passphrase) < bundles.MIN_PASSPHRASE_CHARS:
        raise Conflict(SHORT_PASSPHRASE)
    if passphrase != form.get("passphrase_again"):
        raise Conflict(PASSPHRASES_DIFFER)
    return bundles.passphrase_lock(passphrase, run, argon2)


@officer_page
async def export_case(request: Request, officer: OfficerSession) -> Response:
    """The bundle, as a download; a form to change shows the page again (400), with nothing exported or logged.
    The passphrases are never shown again."""
    form = await read_small_form(request)
    ctx, case_id = context_of(request), request.path_params["case_id"]
    await run_in_threadpool(export.check, ctx, officer, case_id)
    bundle_id = bundles.new_bundle_id()
    try:
        lock = await run_in_threadpool(_lock, form, bundle_id, ctx.gate.run, ctx.instance.argon2)
    except Conflict as refused:
        error = translate(request, i18n.message_of(refused))
        return _form(request, officer, case_id, error, sealed=form.get("sealed"), public_key=form.get("public_key"))
    try:
        done, spool = await run_in_threadpool(export.export_spooled, ctx, officer, case_id, lock, bundle_id)
    except (CryptoError, bundles.BundleError):
        return _form(request, officer, case_id, translate(request, DAMAGED), status_code=409)
    return StreamingResponse(
        export.spooled(spool),
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{done.case_id}.intake-bundle"',
            "Content-Length": str(done.size),
            "X-Content-Type-Options": "nosniff",
        },
    )

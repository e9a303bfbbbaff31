"""The JSON API under /api/v1: the same service calls as the pages, for tools and load tests.

Authentication is a Bearer token (the same server-side sessions as the cookies use).
The OpenAPI document is at /api/v1/openapi.json.
"""

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..web.templating import context_of
from . import officer, reporter
from .openapi import openapi_document


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document(context_of(request).policy))


routes = [
    Route("/openapi.json", openapi, methods=["GET"]),
    Route("/form", reporter.form, methods=["GET"]),
    Route("/reports", reporter.file_report, methods=["POST"]),
    Route("/caseroom/session", reporter.caseroom_login, methods=["POST"]),
    Route("/caseroom/session", reporter.caseroom_logout, methods=["DELETE"]),
    Route("/caseroom", reporter.caseroom, methods=["GET"]),
    Route("/caseroom/cases/{case_id}/messages", reporter.caseroom_write, methods=["POST"]),
    Route("/caseroom/cases/{case_id}/files/{file_id}", reporter.caseroom_file, methods=["GET"]),
    Route("/caseroom/cases/{case_id}/consent", reporter.caseroom_consent, methods=["POST"]),
    Route("/caseroom/cases/{case_id}/identity-consent", reporter.caseroom_identity, methods=["POST"]),
    Route("/caseroom/cases/{case_id}/withdrawal", reporter.caseroom_withdrawal, methods=["POST"]),
    Route("/officer/session", officer.officer_login, methods=["POST"]),
    Route("/officer/session", officer.officer_logout, methods=["DELETE"]),
    Route("/officer/cases", officer.officer_cases, methods=["GET"]),
    Route("/officer/cases/{case_id}", officer.officer_case, methods=["GET"]),
    Route("/officer/cases/{case_id}/messages", officer.officer_write, methods=["POST"]),
    Route("/officer/cases/{case_id}/files/{file_id}", officer.officer_file, methods=["GET"]),
    Route("/officer/cases/{case_id}/transitions", officer.officer_transition, methods=["POST"]),
    Route("/officer/cases/{case_id}/reopening", officer.officer_reopen, methods=["POST"]),
    Route("/officer/cases/{case_id}/determination", officer.officer_determination, methods=["POST"]),
    Route("/officer/cases/{case_id}/extension", officer.officer_extension, methods=["POST"]),
    Route("/officer/cases/{case_id}/assignment", officer.officer_assignment, methods=["POST"]),
    Route("/officer/cases/{case_id}/notes", officer.officer_note, methods=["POST"]),
    Route("/officer/cases/{case_id}/measures", officer.officer_measure, methods=["POST"]),
    Route("/officer/cases/{case_id}/measures/{measure_id}", officer.officer_measure_update, methods=["POST"]),
    Route("/officer/cases/{case_id}/referral", officer.officer_referral, methods=["POST"]),
    Route("/officer/cases/{case_id}/consent-request", officer.officer_consent_request, methods=["POST"]),
    Route("/officer/cases/{case_id}/abandonment-warning", officer.officer_warning, methods=["POST"]),
    Route("/officer/cases/{case_id}/identity-reading", officer.officer_identity, methods=["POST"]),
    Route("/officer/cases/{case_id}/recusal", officer.officer_recusal, methods=["POST"]),
    Route("/officer/cases/{case_id}/recusal/decision", officer.officer_recusal_decision, methods=["POST"]),
    Route("/officer/cases/{case_id}/share", officer.officer_share, methods=["POST"]),
    Route("/officer/conflicts", officer.officer_conflicts, methods=["GET"]),
]

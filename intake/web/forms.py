"""Reading small, file-less HTML forms.

Starlette's form parser would spool uploaded files to a temporary file in
plaintext; these forms accept no files at all (max_files=0), and the body limit
middleware has already capped their size.
"""

from starlette.datastructures import FormData
from starlette.requests import Request

from .errors import BadRequest

FORM_TYPE = "application/x-www-form-urlencoded"


async def read_small_form(request: Request) -> FormData:
    """The fields of a urlencoded form, or BadRequest for anything else."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        raise BadRequest(f"This form must be sent as {FORM_TYPE}.", status_code=415)
    return await request.form(max_files=0, max_fields=100)

"""What each test officer was shown once at enrolment (the recovery key, the TOTP secret): what a
real officer keeps on paper and in an authenticator app, outside the service. Kept here, per
instance, so the service's Context carries no test state."""

import weakref

from intake.service.context import Context
from intake.service.officers import Enrolment

_kept: dict[int, dict[str, Enrolment]] = {}


def enrolments(ctx: Context) -> dict[str, Enrolment]:
    """This instance's enrolments by username; a test that adds an officer records it here.

    Keyed by the Context's id (a Context is not hashable) and forgotten when the Context is
    collected, so a later instance at the same address never sees another's officers."""
    key = id(ctx)
    if key not in _kept:
        _kept[key] = {}
        weakref.finalize(ctx, _kept.pop, key, None)
    return _kept[key]

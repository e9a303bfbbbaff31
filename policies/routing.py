"""Which offices a report goes to, from what the reporter says it is about."""

from .model import Policy
from .vocabulary import Concern, Office


def route(policy: Policy, concerns: frozenset[Concern]) -> tuple[Office, ...]:
    """The offices, in a stable order (ECO before OIG), that receive a case each.

    Retaliation goes to ECO; other misconduct and "not sure" to OIG; a report of both
    makes one case for each office.
    """
    offices: set[Office] = set()
    for concern in concerns:
        offices.update(policy.routing[concern])
    return tuple(code for code in policy.offices if code in offices)

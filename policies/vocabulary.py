"""The words the procedures and the service share, as types.

A typo in one of these is a type error or an AttributeError, never a silently unmatched
string. They are `StrEnum`s, so they are stored and sent as the plain strings they
always were (a database row, a JSON field, a template test) and compare equal to them.

What a *state* of a lifecycle means (it acknowledges a case, concludes the assessment,
is reached by a referral, closes the handling) is not here: that is the organization's
to say, in policy.toml.
"""

from enum import StrEnum


class Office(StrEnum):
    """The two offices that receive cases (ECO Charter, Annex I of the ECO Annual Report 2022)."""

    ECO = "ECO"  # Ethics and Conduct Office: retaliation complaints, advice
    OIG = "OIG"  # Office of the Inspector General: all other misconduct, and ECO's referrals


class Consent(StrEnum):
    """Where the complainant's consent to share their complaint stands (ECO Charter 4.8)."""

    REQUESTED = "requested"
    GIVEN = "given"
    REFUSED = "refused"


class Author(StrEnum):
    """Who wrote a message in a case room."""

    REPORTER = "reporter"
    OFFICER = "officer"
    SERVICE = "service"  # the service's own notice (consent request, referral notice...), sealed as {kind, params}


class SessionKind(StrEnum):
    """Whose keys a server-side session holds."""

    REPORTER = "reporter"
    OFFICER = "officer"
    RECEIPT = "receipt"  # a new passphrase, between the report's POST and the one page that shows it


class Concern(StrEnum):
    """What the reporter says the report is about; routing maps each to offices."""

    RETALIATION = "retaliation"
    MISCONDUCT = "misconduct"
    BOTH = "both"
    NOT_SURE = "not_sure"
    ADVICE = "advice"  # a request for ECO's confidential advice, not a report

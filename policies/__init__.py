"""The organization's rules as data (policy.toml) and the code that applies them.

Nothing here knows about the web or the database: the service layer asks which
questions to put to a reporter, whether their answers are valid, which offices a
report goes to, and what each state of an office's lifecycle means.
"""

from .form import MAX_MESSAGE_CHARS, InvalidReport, ReportInput, clean_text, validate_report
from .model import Choice, Lifecycle, MisconductKind, OfficeProfile, Policy, PolicyError, load_policy
from .routing import route
from .vocabulary import Author, Concern, Consent, Office, SessionKind

__all__ = [
    "MAX_MESSAGE_CHARS",
    "Author",
    "Choice",
    "Concern",
    "Consent",
    "InvalidReport",
    "Lifecycle",
    "MisconductKind",
    "Office",
    "OfficeProfile",
    "Policy",
    "PolicyError",
    "ReportInput",
    "SessionKind",
    "clean_text",
    "load_policy",
    "route",
    "validate_report",
]

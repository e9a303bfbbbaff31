"""The service's own messages in a case room: a consent request, a referral notice, a warning.

They are sealed like any message, but as `{"kind": ..., "params": {...}}` under the
author `service`, never as English text: each reader sees them in their own language,
and rewording a template (or changing a number in the policy) changes how every old
notice reads instead of leaving it untranslated. Only the service writes this author,
so a reporter cannot forge a notice by typing JSON.
"""

import json
from enum import StrEnum

from policies.text import N_, Text


class Notice(StrEnum):
    CONSENT_REQUEST = "consent_request"
    REFERRAL = "referral"
    TRANSFER = "transfer"  # OIG passed the report to ECO
    TRANSFER_TO_OIG = "transfer_to_oig"  # ECO passed a report that is not about retaliation to OIG
    ABANDONMENT_WARNING = "abandonment_warning"
    SHARED = "shared"  # a head let one more officer open a restricted case
    NEW_READER = "new_reader"  # one more officer can read a restricted case, given it by an officer who is not a head


# The consent request says OIG would not receive who the complainant is: true by construction. The identity
# they left is sealed under a key of its own, wrapped to the reporter and, with their consent, to the office the
# case was routed to (identity.py); a referral wraps the case key alone (referral.py), and
# casework.read_identity opens it only for the office the case was filed with.
TEMPLATES = {
    Notice.CONSENT_REQUEST: N_(
        "The Ethics and Conduct Office would like to share your complaint with the Office of the Inspector General, "
        "so that it can be investigated. It would share your complaint, the files you sent and the messages in this "
        "case room; never the Ethics and Conduct Office's own notes. It shares your information only with your "
        "consent, or, exceptionally, with a written reason that its records keep. The Office of the Inspector "
        "General would not receive who you are, unless you wrote it in the complaint or the messages: an identity "
        "left sealed with the complaint is not part of what is shared. If you say no, your complaint "
        "stays with the Ethics and Conduct Office, which keeps working to protect you. Please answer below; you can "
        "change your answer until the complaint is shared."
    ),
    Notice.REFERRAL: N_(
        "The Ethics and Conduct Office found initial (prima facie) evidence of retaliation and has referred your "
        "complaint to the Office of the Inspector General for investigation. Both offices can now read this case room."
    ),
    Notice.TRANSFER: N_(
        "The Office of the Inspector General has passed your report to the Ethics and Conduct Office, which deals "
        "with retaliation and with matters of its mandate. Both offices can now read this case room; the Ethics and "
        "Conduct Office will acknowledge your report and answer you here."
    ),
    Notice.TRANSFER_TO_OIG: N_(
        "The Ethics and Conduct Office found that your report is about misconduct other than retaliation, and has "
        "passed it to the Office of the Inspector General, which deals with such reports. Both offices can now read "
        "this case room; the Office of the Inspector General will answer you here."
    ),
    Notice.ABANDONMENT_WARNING: N_(
        "We have not heard from you for some time. If we do not hear from you within {days} days, "
        "this complaint will be closed. You can write here at any time before then to keep it open."
    ),
    Notice.SHARED: N_(
        "The head of the office has given one more of its officers access to your report. Because your report is "
        "about someone in the office, only the officers the head chooses can read it."
    ),
    Notice.NEW_READER: N_(
        "One more officer of the office can now read your report. Because your report is about someone in the "
        "office, only the officers chosen for it can read it."
    ),
}
UNKNOWN = N_("A notice from the service that this version cannot show.")


# The notice a referral posts: on prima facie evidence, the referral; otherwise a transfer, by the office that receives it.
TRANSFER_NOTICES = {"OIG": Notice.TRANSFER_TO_OIG, "ECO": Notice.TRANSFER}


def encode(kind: Notice, **params: str | int) -> bytes:
    """The plaintext a notice is sealed as."""
    return json.dumps({"kind": str(kind), "params": params}, sort_keys=True).encode("utf-8")


def decode(plaintext: bytes) -> Text:
    """A sealed notice as a Text: the English template and its values, translated where it is shown."""
    try:
        data = json.loads(plaintext)
        template = TEMPLATES[Notice(data["kind"])]
        return Text(template, **{str(k): v for k, v in data.get("params", {}).items()})
    except (ValueError, KeyError, TypeError, AttributeError):
        return Text(UNKNOWN)

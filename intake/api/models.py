"""The shapes of the API's JSON bodies, each written once: a request is checked against its model
(422 naming the field), and /api/v1/openapi.json is generated from the same models.

The models say what the API takes, not what the service decides: a body of the right shape can
still be refused by the service (a 409 for a case in the wrong state, a 422 for answers the
policy does not offer). Types are strict: "1" is not a number and 0 is not false, because a
client that sends them has a bug it should hear about. Unknown fields are ignored, as before,
except where an irreversible act takes only what it means.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from policies.form import MAX_DESCRIPTION_CHARS

Date = Annotated[str, Field(json_schema_extra={"format": "date"})]
# The longest message body the API documents; the service counts it again (policies.form).
MESSAGE_CHARS = 20000
REASON_CHARS = 2000


class Body(BaseModel):
    """A request body: strict types, unknown fields ignored."""

    model_config = ConfigDict(strict=True, extra="ignore")


# The reporter's requests.


class ReportIn(Body):
    """One concern: `description` and `answers`. Both retaliation and misconduct: `parts`, an account for each
    office. The policy's concerns, questions and choices are filled in where the document is served."""

    concerns: list[str] = Field(min_length=1)
    description: str | None = Field(default=None, min_length=1, max_length=MAX_DESCRIPTION_CHARS)
    answers: dict[str, Any] | None = None
    parts: dict[str, Any] | None = None
    restricted: bool | None = Field(
        default=None,
        description="The report concerns someone in the office that receives it: only that office's head(s) can open "
        'it (as office_concerned = "someone"; "head" sends it to the other office).',
    )


class PassphraseIn(Body):
    passphrase: str = Field(
        max_length=500,
        description="The words, in any case, separated by spaces, hyphens, dots, commas or line breaks; a wrong or "
        "missing letter never opens a case room",
    )


class MessageIn(Body):
    body: str = Field(max_length=MESSAGE_CHARS)


class ConsentIn(Body):
    referral: bool


class IdentityConsentIn(Body):
    agree: bool


class WithdrawalIn(Body):
    """An irreversible act: nothing but what it means is accepted."""

    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=MESSAGE_CHARS)


# The officers' requests.


class OfficerLoginIn(Body):
    username: str
    password: str
    totp: str
    device: str | None = Field(
        default=None, description="The device token of an earlier login: its failures are counted apart from others'"
    )


class TransitionIn(Body):
    to: str
    note: str | None = None
    reason: str | None = None
    message: str | None = None


class ReopeningIn(Body):
    reason: str


class DeterminationIn(Body):
    prima_facie: bool
    reasons: str


class ExtensionIn(Body):
    deadline: str
    days: int = Field(ge=1)
    reason: str


class AssignmentIn(Body):
    username: str | None = Field(description="The officer, or null for nobody; a body without it changes nothing")


class NoteIn(Body):
    note: str


class MeasureIn(Body):
    kind: str
    recommended_to: str
    note: str = ""
    review_on: Date | None = None


class MeasureUpdateIn(Body):
    status: Literal["recommended", "implemented", "declined", "lifted"]
    review_on: Date | None = None
    note: str = ""


class ReferralIn(Body):
    to: Literal["OIG", "ECO"]
    memo: str
    reason: str | None = None
    state: str | None = Field(default=None, description="One of the policy's referral states")
    receiver_concerned: Literal["no", "yes", "not_known"] | None = None


class RecusalIn(Body):
    note: str = Field(max_length=REASON_CHARS)
    hand_to: str | None = Field(default=None, max_length=64, description="the officer who takes the case")


class RecusalDecisionIn(Body):
    username: str
    decision: Literal["upheld", "lifted"]
    reason: str = Field(max_length=REASON_CHARS)
    director_general: bool = False


class ShareIn(Body):
    username: str


REQUESTS: tuple[type[Body], ...] = (
    ReportIn,
    PassphraseIn,
    MessageIn,
    ConsentIn,
    IdentityConsentIn,
    WithdrawalIn,
    OfficerLoginIn,
    TransitionIn,
    ReopeningIn,
    DeterminationIn,
    ExtensionIn,
    AssignmentIn,
    NoteIn,
    MeasureIn,
    MeasureUpdateIn,
    ReferralIn,
    RecusalIn,
    RecusalDecisionIn,
    ShareIn,
)


# What the API answers. Each model names the fields a client may rely on; a few answers carry more
# (the case's records and history as the service keeps them), which the models let through as they are.

OfficeCode = Literal["ECO", "OIG"]
NullableDate = Annotated[str | None, Field(json_schema_extra={"format": "date"})]


class Answer(BaseModel):
    """A response body: built by the handler, checked against its model on the way out."""

    model_config = ConfigDict(extra="allow")


class FormChoice(Answer):
    """A choice a question offers; a kind of misconduct also says what it covers, with examples."""

    id: str
    label: str
    description: str | None = None
    examples: list[str] | None = None


class FormConcern(Answer):
    id: str
    label: str
    hint: str


class FormQuestion(Answer):
    """`for`: the concerns that ask it. A question with `choices` takes their ids; one without takes text of
    at most `max_length` characters."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type: str
    label: str
    for_: list[str] = Field(alias="for")
    hint: str | None = None
    choices: list[FormChoice] | None = None
    max_length: int | None = None


class FormDescription(Answer):
    type: Literal["text"]
    required: bool
    max_length: int


class Form(Answer):
    """The report form's questions, by id; a report of "both" sends two parts, each with its own concern's."""

    policy_version: str
    lang: str
    concerns: list[FormConcern]
    questions: dict[str, FormQuestion]
    description: FormDescription


class Error(Answer):
    error: str
    fields: dict[str, str] | None = None


class Token(Answer):
    token: str


class OfficerToken(Answer):
    """`device`: keep it and send it with the next login; failures from it are counted apart from
    everyone else's guesses at the username (officers.authenticate)."""

    token: str
    device: str


class Created(Answer):
    id: str


class SentFile(Answer):
    """A file just sent: its size, and whether hidden metadata was removed from it."""

    name: str
    size: int
    metadata_removed: bool | None


class Sent(Answer):
    id: str
    files: list[SentFile]


class FiledCase(Answer):
    id: str
    office: OfficeCode


class Filed(Answer):
    """The passphrase is shown this once: it is never kept to be shown again."""

    passphrase: str
    cases: list[FiledCase]
    files: list[SentFile]


class FileOut(SentFile):
    id: str


class Message(Answer):
    id: str
    author: Literal["reporter", "officer", "service"]
    office: str | None = None
    body: str
    sent_on: Date
    files: list[FileOut] = []


class IdentityStatus(Answer):
    left: bool
    shared: bool
    read: bool


class Deadline(Answer):
    name: str
    due_on: Date
    met_on: NullableDate
    state: str
    source: str
    extended_days: int


class Handling(Answer):
    """An office's handling of a case: where it stands and its deadlines."""

    office: str
    status: str
    label: str
    opened_on: Date
    acknowledged_on: NullableDate
    closed: bool
    closed_on: NullableDate
    consent: str | None
    determination: Any
    deadlines: list[Deadline]


class RoomCase(Answer):
    id: str
    office: str
    status: str
    received_on: Date
    messages: list[Message]
    identity: IdentityStatus
    deleted_on: NullableDate = None
    restricted: bool


class CaseRoom(Answer):
    cases: list[RoomCase]


class NextDeadline(Answer):
    name: str
    due_on: Date


class CaseAt(Answer):
    """Another case: where it stands, never what it holds."""

    id: str
    office: str
    status: str


class OtherPart(CaseAt):
    """The other case of a report of both, as an inbox row names it."""

    stepped_away: bool = Field(
        description="The officer declared a conflict of interest on it that stands: named, but not theirs to open"
    )


class InboxCase(Answer):
    id: str
    office: str
    status: str
    received_on: Date
    unread: bool
    assignee: str | None
    next_deadline: NextDeadline | None
    concerns: list[str] = Field(
        description="What the case is for this office: both for a part of a report of both, the receiving office's "
        "concern for a case another office transferred as not its own"
    )
    reported_concerns: list[str]
    transferred_by: OfficeCode | None
    region: str | None
    may_be_in_danger: bool
    protection_now: bool
    other_part: OtherPart | None = Field(description="The other case of a report of both, where the officer may know of it")
    referred_in: bool
    open_measures: int
    needs_officer: bool = Field(description="Closed with protective measures still open and nobody assigned")
    closed: bool
    restricted: bool


class Inbox(Answer):
    cases: list[InboxCase]
    page: int
    pages: int
    total: int
    filter: str
    sort: str
    q: str
    concern: str | None
    region: str | None
    state: str | None
    safety: str | None


class Case(Answer):
    """A decrypted case (audit-logged): the reader's own office's records only."""

    id: str
    office: str
    status: str
    received_on: Date
    acknowledged_on: NullableDate
    description: str
    answers: dict[str, Any]
    language: str
    handling: Handling
    other_handlings: list[Handling]
    allowed_transitions: list[str]
    decisions: list[str]
    assignee: str | None
    messages: list[Message]
    files: list[FileOut]
    identity: IdentityStatus
    linked: list[CaseAt]
    restricted: bool


class Declaration(Answer):
    """A declared conflict, read from the service's Declaration by its attributes."""

    model_config = ConfigDict(from_attributes=True)
    case: str = Field(validation_alias="case_id")
    username: str
    declared_on: Date
    note: str | None = Field(description="null where the caller cannot open the case")
    decision: Literal["upheld", "lifted"] | None = Field(description="null while pending")
    decided_on: str | None
    decided_by: str | None = Field(description="who decided, or recorded the Director General's decision")
    director_general: bool = Field(description="the decision is the Director General's (ECO Charter 4.7)")
    reason: str | None = Field(description="the decision's reason; null where the caller cannot open the case")
    lifted_on: str | None
    decider: Literal["head", "director_general"] = Field(description="who decides it")
    can_decide: bool = Field(description="the caller may record a decision on it now")


class Declarations(Answer):
    declarations: list[Declaration]


class Identity(Answer):
    identity: str


class Assigned(Answer):
    assignee: str | None


class MeasureStatus(Answer):
    id: str
    status: str


class ConsentRequested(Answer):
    consent: Literal["requested"]


class ConsentAnswer(Answer):
    consent: str


class IdentityShared(Answer):
    shared: bool


class Withdrawn(Answer):
    withdrawn: list[str]


class Warned(Answer):
    warned: bool


class Recused(Answer):
    recused: bool
    handed_to: str | None


class Decided(Answer):
    decision: Literal["upheld", "lifted"]


class Shared(Answer):
    shared: bool

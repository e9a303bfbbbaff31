"""The JSON shapes of what the service returns: files, handlings, messages, measures."""

from typing import Any

from ..service.attachments import FileView, PendingFile
from ..service.casefiles import HandlingView, MessageView
from ..service.protection import MeasureView
from . import models as m


def pending_json(files: list[PendingFile]) -> list[dict[str, Any]]:
    """What the sender is told of the files they just sent: sizes, and whether each was cleaned."""
    return [{"name": f.name, "size": f.size, "metadata_removed": f.cleaned} for f in files]


def sent(message_id: str, files: list[PendingFile]) -> m.Sent:
    """A message just sent, and what became of its files."""
    return m.Sent.model_validate({"id": message_id, "files": pending_json(files)})


def handling(view: HandlingView) -> m.Handling:
    return m.Handling.model_validate(handling_json(view))


def file_json(view: FileView) -> dict[str, Any]:
    return {"id": view.id, "name": view.name, "size": view.size, "metadata_removed": view.cleaned}


def handling_json(view: HandlingView) -> dict[str, Any]:
    return {
        "office": view.office,
        "status": view.status,
        "label": view.label,
        "opened_on": view.opened_on,
        "acknowledged_on": view.acknowledged_on,
        "closed": view.closed,
        "closed_on": view.closed_on,
        "consent": view.consent,
        "determination": view.determination,
        "deadlines": [
            {
                "name": d.name,
                "due_on": d.due_on.isoformat(),
                "met_on": d.met_on.isoformat() if d.met_on else None,
                "state": d.state,
                "source": d.source,
                "extended_days": d.extended_days,
            }
            for d in view.deadlines
        ],
    }


def measure_json(view: MeasureView, with_notes: bool = True) -> dict[str, Any]:
    """A protective measure or onward referral; the notes only for the office that wrote them."""
    out: dict[str, Any] = {
        "id": view.id,
        "office": view.office,
        "kind": view.kind,
        "item": view.item,
        "recommended_to": view.recommended_to,
        "status": view.status,
        "recommended_on": view.recommended_on,
        "status_on": view.status_on,
        "review_on": view.review_on,
    }
    if with_notes:
        out["notes"] = [{"text": n.text, "officer": n.officer, "recorded_on": n.recorded_on} for n in view.notes]
    return out


def message_json(message: MessageView) -> dict[str, Any]:
    """A message; a service notice's body in English (the pages show it in the reader's language)."""
    return {
        "id": message.id,
        "author": message.author,
        "office": message.office,
        "body": str(message.body),
        "sent_on": message.sent_on,
        "files": [file_json(f) for f in message.files],
    }

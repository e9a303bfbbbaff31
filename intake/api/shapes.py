"""The JSON shapes of what the service returns: files, handlings, messages."""

from typing import Any

from ..service.attachments import FileView, PendingFile
from ..service.casefiles import HandlingView, MessageView


def pending_json(files: list[PendingFile]) -> list[dict[str, Any]]:
    """What the sender is told of the files they just sent: sizes, and whether each was cleaned."""
    return [{"name": f.name, "size": f.size, "metadata_removed": f.cleaned} for f in files]


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
        "consent": view.consent,
        "deadlines": [
            {
                "name": d.name,
                "due_on": d.due_on.isoformat(),
                "met_on": d.met_on.isoformat() if d.met_on else None,
                "state": d.state,
            }
            for d in view.deadlines
        ],
    }


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

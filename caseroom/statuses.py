"""How a case's status reads to the reporter and to officers."""

STATUS_LABELS = {
    "received": "Received",
    "acknowledged": "Acknowledged",
}

STATUS_HINTS = {
    "received": "The office has your report and will acknowledge it within 7 days.",
    "acknowledged": "The office has acknowledged your report and is looking at it. Check back here for questions and news.",
}

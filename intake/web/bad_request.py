"""The web layer's own refusal: a request that is malformed in itself."""


class BadRequest(Exception):
    """The request itself is malformed; `message` tells the sender what to fix."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code

"""What can go wrong in a service call, in words a caller can show (and translate)."""

from policies.text import N_, Text


class ServiceError(Exception):
    """Base of every refusal the service layer makes on purpose."""


class NotFound(ServiceError):
    """No such thing for this caller. Also the answer for "exists, but not yours"."""


class AuthenticationFailed(ServiceError):
    """The passphrase, password or session does not open anything."""


class Busy(ServiceError):
    """Too much at once (Argon2 slots, or an abuse budget); try again after `retry_after` seconds."""

    def __init__(self, retry_after: int, message: str = N_("The service is busy. Please try again in a moment.")) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TooManyAttempts(ServiceError):
    """Failed attempts on this account: wait `retry_after` seconds before the next one."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(Text(N_("Too many failed attempts. Try again in {seconds} seconds."), seconds=retry_after))
        self.retry_after = retry_after


class Conflict(ServiceError):
    """The case is not in a state that allows this."""


class TooLarge(ServiceError):
    """An upload is over a configured limit; nothing of it is kept."""


class StorageFull(ServiceError):
    """The files would go over the service's storage quota, or fill its disk."""


class Unavailable(Busy):
    """The database cannot be reached just now (restarting, failing over, out of connections).
    Nothing of the request was kept: its transaction never committed. A Busy, so every form that
    shows a busy refusal with the reader's words keeps them for this one too."""

    def __init__(self, retry_after: int = 5) -> None:
        super().__init__(
            retry_after,
            N_("The service cannot reach its database just now. Nothing you sent was kept; please send it again in a moment."),
        )

"""The clock tests move by hand: set as a Context's `now`, it lets a test cross a deadline, a lock
or a retention period in one line instead of waiting for it."""

import datetime as dt


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, days: int) -> None:
        self.now += dt.timedelta(days=days)

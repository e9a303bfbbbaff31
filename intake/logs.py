"""What the service writes to its log: never a request's content, address or browser.

Uvicorn's access log is off (`intake serve`). What remains is the error log, and an
unexpected exception's traceback goes there. A traceback's frames are code; its messages
may quote data (a database error can carry a value, a parser error a piece of the body),
so every exception is written as its type and its frames only, never its message.
"""

import logging
import traceback


class NoContentFormatter(logging.Formatter):
    """A formatter whose tracebacks name each exception's type and frames, without messages."""

    def formatException(self, ei) -> str:
        lines = []
        seen: set[int] = set()
        error: BaseException | None = ei[1]
        while error is not None and id(error) not in seen:
            seen.add(id(error))
            frames = traceback.extract_tb(error.__traceback__)
            lines += [f'  File "{f.filename}", line {f.lineno}, in {f.name}' for f in frames]
            lines.append(f"{type(error).__module__}.{type(error).__qualname__} (message withheld)")
            error = error.__cause__ or error.__context__
        return "Traceback, innermost exception last, causes after it:\n" + "\n".join(lines)


def log_config() -> dict:
    """Uvicorn's logging configuration with every handler using NoContentFormatter."""
    formatter = {"()": "intake.logs.NoContentFormatter", "fmt": "%(levelname)s %(name)s: %(message)s"}
    handler = {"class": "logging.StreamHandler", "formatter": "no_content", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"no_content": formatter},
        "handlers": {"stderr": handler},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            "uvicorn.error": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }

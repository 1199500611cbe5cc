"""Errors the domains raise, for the faces (API, console, CLI) to translate.

Each error names *what* it concerns: a field for `ValidationFailed` and `Conflict` ("email",
"clientID", "abbreviation"), a kind of record for `NotFound` and `Cancelled` ("user", "session",
"sessionTime"), a rule for `Refused` ("full", "overlap"). The API turns (error class, what)
into a response code in one table (confero.api.errors); the console and the CLI show the
message. No domain knows an API code.
"""


class DomainError(ValueError):
    def __init__(self, what: str, message: str):
        super().__init__(f"{what}: {message}")
        self.what = what
        self.message = message

    @property
    def field(self) -> str:
        """The field concerned (the name forms and the CLI use)."""
        return self.what


class ValidationFailed(DomainError):
    """Input a service cannot accept; the message names the field and the rule."""


class Conflict(DomainError):
    """A value another record holds already (an email, a clientID, a code)."""


class NotFound(DomainError):
    """No such record (what: "user", "session", "sessionTime", "exhibitor", "order", …)."""


class Cancelled(DomainError):
    """The record is cancelled (or, for sessions, not published)."""


class Refused(DomainError):
    """A rule of the domain says no (what: "full", "overlap", "constraint", "notScheduled",
    "regcode", …)."""


class Throttled(DomainError):
    """Too many of something in too little time; try again after `retry_after` seconds."""

    def __init__(self, what: str, message: str, *, retry_after: int):
        super().__init__(what, message)
        self.retry_after = retry_after

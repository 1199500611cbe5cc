"""Errors the services raise for the faces (API, console, CLI) to translate."""


class ValidationFailed(ValueError):
    """Input a service cannot accept; the message names the field and the rule."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Conflict(ValueError):
    """A value another record holds already (an email, a clientID, a code)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

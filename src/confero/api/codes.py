"""The response-code table (contract §9). The pipeline, the XML Schema and the generated
"Appendix A" all read this one table, so the documentation cannot drift from the behaviour."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    number: int
    http_status: int
    meaning: str


_TABLE = [
    Code(0, 200, "Success"),
    Code(1, 500, "Internal error (the message carries an incident ID that is in the server log)"),
    Code(100, 401, "apiToken missing"),
    Code(101, 401, "apiToken not valid for this site"),
    Code(103, 403, "client IP address not allowed (message names the address)"),
    Code(104, 403, "API access disabled for this site"),
    Code(110, 403, "Account Level Access is off: `event` may only name this event"),
    Code(111, 404, "unknown event GUID"),
    Code(112, 400, "`event=all` not supported by this resource"),
    Code(120, 429, "rate limit exceeded"),
    Code(121, 405, "method not allowed (use POST)"),
    Code(122, 404, "unknown resource"),
    Code(200, 400, "required parameter missing (message names it)"),
    Code(201, 400, "parameter value not valid (message names parameter and rule)"),
    Code(202, 413, "request too large"),
    Code(210, 404, "user not found"),
    Code(211, 409, "clientID already used by another user"),
    Code(212, 400, "userRef cannot act as the user: use userKey or clientID"),
    Code(213, 400, "userKey and clientID name different users"),
    Code(214, 409, "email already used by another active user"),
    Code(215, 409, "user is cancelled"),
    Code(220, 404, "session not found"),
    Code(221, 404, "session time not found"),
    Code(222, 409, "session time full"),
    Code(223, 409, "overlaps a session time already scheduled"),
    Code(224, 403, "user may not view or schedule this session"),
    Code(225, 409, "session time not scheduled by this user"),
    Code(226, 409, "session or session time cancelled or unpublished"),
    Code(227, 409, "abbreviation already used"),
    Code(230, 404, "exhibitor not found"),
    Code(231, 409, "exhibitorCode already used"),
    Code(240, 404, "message recipient not found or cancelled"),
    Code(250, 404, "order not found"),
    Code(251, 409, "orderNumber already used"),
    Code(252, 400, "registration code not valid or used up"),
    Code(300, 400, "unknown custom field code"),
    Code(301, 400, "custom field value not recognised"),
    Code(302, 400, "custom field takes one value only"),
]

CODES: dict[int, Code] = {code.number: code for code in _TABLE}

SUCCESS = 0
INTERNAL_ERROR = 1
TOKEN_MISSING = 100
TOKEN_INVALID = 101
IP_NOT_ALLOWED = 103
API_DISABLED = 104
ACCOUNT_LEVEL_OFF = 110
UNKNOWN_EVENT = 111
EVENT_ALL_UNSUPPORTED = 112
RATE_LIMITED = 120
METHOD_NOT_ALLOWED = 121
UNKNOWN_RESOURCE = 122
PARAM_MISSING = 200
PARAM_INVALID = 201
TOO_LARGE = 202
USER_NOT_FOUND = 210
CLIENT_ID_TAKEN = 211
USERREF_CANNOT_ACT = 212
USER_IDS_DISAGREE = 213
EMAIL_TAKEN = 214
USER_CANCELLED = 215
SESSION_NOT_FOUND = 220
SESSION_TIME_NOT_FOUND = 221
SESSION_TIME_FULL = 222
OVERLAP = 223
NOT_ALLOWED_BY_CONSTRAINTS = 224
NOT_SCHEDULED = 225
SESSION_CANCELLED = 226
ABBREVIATION_TAKEN = 227
EXHIBITOR_NOT_FOUND = 230
EXHIBITOR_CODE_TAKEN = 231
RECIPIENT_NOT_FOUND = 240
ORDER_NOT_FOUND = 250
ORDER_NUMBER_TAKEN = 251
REGCODE_REFUSED = 252
UNKNOWN_FIELD = 300
UNKNOWN_VALUE = 301
SINGLE_VALUE_ONLY = 302


def http_status(number: int) -> int:
    return CODES[number].http_status


class ApiError(Exception):
    """Raised anywhere below the pipeline; rendered as `<api><response code=…>message</…></api>`."""

    def __init__(self, code: int, message: str | None = None, *, headers: dict | None = None):
        assert code in CODES, code
        super().__init__(message or CODES[code].meaning)
        self.code = code
        self.message = message or CODES[code].meaning
        self.headers = headers or {}


# Domain errors (confero.errors) as codes: (error class name, what it concerns) → code; what a
# class names alone ("*") is its code for anything not listed. The one place where the API
# learns what a domain's refusal means to an integrator.
DOMAIN_CODES: dict[tuple[str, str], int] = {
    ("ValidationFailed", "*"): PARAM_INVALID,
    ("NotFound", "user"): USER_NOT_FOUND,
    ("Cancelled", "user"): USER_CANCELLED,
    ("Conflict", "clientID"): CLIENT_ID_TAKEN,
    ("Conflict", "email"): EMAIL_TAKEN,
    ("NotFound", "exhibitor"): EXHIBITOR_NOT_FOUND,
    ("Conflict", "exhibitorCode"): EXHIBITOR_CODE_TAKEN,
    ("NotFound", "recipient"): RECIPIENT_NOT_FOUND,
    # markMessageRead.do of a message that is not to the acting user (or none): the closest
    # code of the contract's closed table, "not found" as the recipient (docs/api.md).
    ("NotFound", "message"): RECIPIENT_NOT_FOUND,
    ("NotFound", "order"): ORDER_NOT_FOUND,
    ("Conflict", "orderNumber"): ORDER_NUMBER_TAKEN,
    ("Refused", "regcode"): REGCODE_REFUSED,
    # Items of a cancelled order (docs/api.md, "Orders"): §9 has no code for a cancelled order;
    # the parameter `item` is what cannot be taken, so 201, the message saying why.
    ("Cancelled", "order"): PARAM_INVALID,
    ("Throttled", "*"): RATE_LIMITED,
    ("NotFound", "session"): SESSION_NOT_FOUND,
    ("NotFound", "sessionTime"): SESSION_TIME_NOT_FOUND,
    ("Refused", "full"): SESSION_TIME_FULL,
    ("Refused", "overlap"): OVERLAP,
    ("Refused", "constraint"): NOT_ALLOWED_BY_CONSTRAINTS,
    ("Refused", "notScheduled"): NOT_SCHEDULED,
    ("Cancelled", "session"): SESSION_CANCELLED,
    ("Cancelled", "sessionTime"): SESSION_CANCELLED,
    ("Conflict", "abbreviation"): ABBREVIATION_TAKEN,
}


def from_domain(error: Exception) -> ApiError:
    """The ApiError of a domain error (confero.errors.DomainError), by DOMAIN_CODES."""
    kind = type(error).__name__
    what = getattr(error, "what", "")
    code = DOMAIN_CODES.get((kind, what), DOMAIN_CODES.get((kind, "*")))
    if code is None:
        raise LookupError(f"no response code for {kind}({what!r})") from error
    headers = {}
    if retry_after := getattr(error, "retry_after", None):
        headers["Retry-After"] = str(retry_after)
    message = getattr(error, "message", str(error))
    if code == PARAM_INVALID and what:
        # A 201 names the parameter and the rule (§9); a domain's `what` is the field's API name.
        message = f"parameter '{what}': {message}"
    return ApiError(code, message, headers=headers)

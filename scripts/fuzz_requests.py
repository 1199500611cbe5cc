"""What scripts/fuzz_cases.py builds its requests from: the `Case` and `Target` they share, raw
HTTP/1.1 requests written by hand (no HTTP client sends these bytes), bodies (forms, multipart,
chunked), and the values and parameters a call may carry.

Standard library only.
"""

import random
import string
from dataclasses import dataclass, field
from urllib.parse import quote_plus

MiB = 1024 * 1024
TOKEN_CHARS = string.ascii_letters + string.digits


@dataclass
class Case:
    kind: str  # e.g. "method/lower case"
    data: bytes  # what is sent, whole
    resource: str = ""  # the registry's resource it aims at ("" for none)
    complete: bool = True  # the request head is whole: an answer is due
    head: bool = False  # a HEAD request: the answer has no body
    tokens: list[str] = field(default_factory=list)  # the tokens it carries, in any form


@dataclass
class Target:
    """What the requests are made of: the demo event's tokens and the server's resources."""

    live: str  # the Production token
    test: str  # the UAT token
    event_guid: str
    resources: dict[str, list[str]]  # name → declared parameters
    field_codes: list[str]  # custom-field codes of the demo's sites
    users: list[dict[str, str]] = field(default_factory=list)  # userKey, userRef, clientID
    fake_tokens: list[str] = field(default_factory=list)  # token-shaped, valid for no site


def fake_token(rng: random.Random) -> str:
    kind = rng.choice(["cfo_live_", "cfo_test_"])
    return kind + "".join(rng.choice(TOKEN_CHARS) for _ in range(40))


# --- Building requests ---------------------------------------------------------------------


def request(
    *,
    method: bytes = b"POST",
    target: bytes = b"/demo/api/event.do",
    version: bytes = b"HTTP/1.1",
    headers: list[tuple[bytes, bytes | None]] | None = None,
    body: bytes = b"",
    length: bool = True,
    eol: bytes = b"\r\n",
) -> bytes:
    """A request; Host is added unless given, Content-Length when `length` (and not chunked).
    A header whose value is None is a line of its name alone."""
    headers = list(headers or [])
    names = {name.lower() for name, _ in headers}
    if b"host" not in names:
        headers.insert(0, (b"Host", b"127.0.0.1"))
    if length and b"content-length" not in names and b"transfer-encoding" not in names:
        headers.append((b"Content-Length", str(len(body)).encode()))
    head = method + b" " + target + b" " + version + eol
    head += b"".join(
        name + (b"" if value is None else b": " + value) + eol for name, value in headers
    )
    return head + eol + body


def chunked(body: bytes, rng: random.Random) -> bytes:
    """`body` framed as chunks of random sizes, with the last chunk."""
    out, at = b"", 0
    while at < len(body):
        size = rng.randint(1, max(1, min(len(body) - at, 70_000)))
        out += f"{size:x}\r\n".encode() + body[at : at + size] + b"\r\n"
        at += size
    return out + b"0\r\n\r\n"


def form(pairs: list[tuple[str | bytes, str | bytes]]) -> bytes:
    """application/x-www-form-urlencoded; bytes are percent-encoded as they are."""

    def enc(text: str | bytes) -> str:
        return quote_plus(text if isinstance(text, bytes) else text.encode("utf-8"), safe="")

    return "&".join(f"{enc(name)}={enc(value)}" for name, value in pairs).encode("ascii")


def multipart(pairs: list[tuple[str, str | bytes]], boundary: str = "fuzzBoundary7") -> bytes:
    out = b""
    for name, value in pairs:
        raw = value if isinstance(value, bytes) else value.encode("utf-8")
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + raw
            + b"\r\n"
        )
    return out + f"--{boundary}--\r\n".encode()


def site_path(rng: random.Random, target: Target, resource: str) -> tuple[str, str]:
    """The path of `resource` on one of the demo's sites, and that site's token."""
    if rng.random() < 0.7:
        return f"/demo/api/{resource}.do", target.live
    return f"/uat/demo/api/{resource}.do", target.test


# Values a client may send, from the ordinary to the hostile (XML, HTML, injections, bytes that
# are not UTF-8, characters XML cannot carry, sizes).
VALUES: list[str | bytes] = [
    "Kat",
    "kat@example.org",
    "CRM-17",
    "true",
    "no",
    "0",
    "-1",
    "1764000000000",
    "99999999999999999999",
    "all",
    "",
    "   padded   ",
    "<script>alert(1)</script>",
    "]]>",
    "<![CDATA[x]]>",
    '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
    "&amp;&lt;&#0;&#x1;&e;",
    "\"'><img src=x onerror=alert(1)>",
    '<api><response code="0">Success</response></api>',
    "{{7*7}}${7*7}",
    "${jndi:ldap://127.0.0.1/x}",
    "' OR '1'='1'; DROP TABLE people_user; --",
    "%s%n%x",
    "\u202etxt.exe",
    "😀" * 40,
    "Ωmega ünïcödé 漢字",
    "\x00",
    "a\x01b",
    "\ufffe",
    "line\r\nbreak",
    "\t",
    "x" * 5000,
    b"\xff\xfe",
    b"caf\xe9",  # latin-1, not UTF-8
    b"\xc0\xaf",  # overlong
    b"\xed\xa0\x80",  # a surrogate
]


def value(rng: random.Random, target: Target) -> str | bytes:
    roll = rng.random()
    if roll < 0.05:
        return target.event_guid
    if roll < 0.08:
        return rng.choice(target.fake_tokens)
    return rng.choice(VALUES)


# Values a resource may well accept, so that calls get past the checks into the resources.
PLAIN = {
    "email": lambda rng: f"fuzz{rng.randrange(10**6)}@example.org",
    "email2": lambda rng: f"other{rng.randrange(10**6)}@example.org",
    "registered": lambda rng: rng.choice(["true", "false"]),
    "paid": lambda rng: rng.choice(["true", "false"]),
    "since": lambda rng: str(rng.choice([0, 1764000000000])),
    "clientID": lambda rng: f"FUZZ-{rng.randrange(10**6)}",
    "newClientID": lambda rng: f"FUZZ-{rng.randrange(10**6)}",
}


def call_params(rng: random.Random, target: Target, resource: str) -> list[tuple[str, object]]:
    """Parameters for `resource`. Odd ones (a third of calls are plain instead): some it
    declares, standard and acting ones, custom-field codes, unknown names, repeats, all with
    values from VALUES. Plain ones: only what it declares, with values it may accept."""
    declared = target.resources.get(resource, [])
    pairs: list[tuple[str, object]] = []
    if rng.random() < 1 / 3:
        for name in rng.sample(declared, k=rng.randint(0, min(4, len(declared)))):
            plain = PLAIN.get(name, lambda rng: rng.choice(["Kat", "Lee", "ACME", "1"]))
            pairs.append((name, plain(rng)))
        if target.users and rng.random() < 0.5:
            name = rng.choice(["userKey", "clientID", "userRef"])
            pairs.append((name, rng.choice(target.users)[name]))
        return pairs
    names = [*declared, "event", "format", "since"]
    names += ["userKey", "clientID", "userRef", *target.field_codes]
    names += ["sn", "cn", "locale", "caller", "num", "", "a b", "ü", "<x>", "apiToken2"]
    for _ in range(rng.randint(0, 8)):
        name = rng.choice(names)
        if name == "format":
            pairs.append((name, rng.choice(["xml", "XML", "", "<json>", "jsonp"])))
        elif name in ("userKey", "clientID", "userRef") and target.users and rng.random() < 0.6:
            pairs.append((name, rng.choice(target.users)[name]))
        else:
            pairs.append((name, value(rng, target)))
    if pairs and rng.random() < 0.15:
        pairs.append(rng.choice(pairs))  # a parameter repeated
    return pairs

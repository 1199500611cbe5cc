"""The requests scripts/fuzz_http.py sends: malformed or odd HTTP/1.1 requests, as raw bytes.

Each generator takes the run's random number generator and what the server holds (`Target`)
and returns one `Case`. The same seed and the same target shape give the same requests, byte
for byte except the demo's tokens and GUID, which the server issues afresh. The building
blocks are in scripts/fuzz_requests.py.

Standard library only.
"""

import random
from collections.abc import Callable
from urllib.parse import quote

from fuzz_requests import (  # a sibling script, on the path scripts/fuzz_http.py gives
    Case,
    MiB,
    Target,
    call_params,
    chunked,
    form,
    multipart,
    request,
    site_path,
)

# --- Generators: one Case each --------------------------------------------------------------


def ordinary_call(rng: random.Random, target: Target) -> Case:
    """A POST to a resource, its token in one of the places a client may put it (or none, or a
    wrong one), its parameters in the query string or a form, text/xml or multipart body."""
    resource = rng.choice(sorted(target.resources))
    path, token = site_path(rng, target, resource)
    if rng.random() < 0.1:
        token = rng.choice([target.live, target.test, *target.fake_tokens])
    params = call_params(rng, target, resource)
    headers: list[tuple[bytes, bytes]] = []
    where = rng.choice(["query", "body", "header", "header", "none", "both"])
    query: list[tuple[str, object]] = []
    if where in ("query", "both"):
        query.append(("apiToken", token))
    if where in ("body", "both"):
        params.insert(rng.randint(0, len(params)), ("apiToken", token))
    if where == "header":
        headers.append((b"Authorization", b"Bearer " + token.encode()))
    if rng.random() < 0.3:
        query += params
        params = []
    style = rng.choice(["form", "form", "text/xml", "multipart", "none", "chunked form"])
    body = b""
    if style == "multipart":
        body = multipart([(str(n), v) for n, v in params])  # type: ignore[misc]
        headers.append((b"Content-Type", b"multipart/form-data; boundary=fuzzBoundary7"))
    elif style != "none" or params:
        body = form(params)  # type: ignore[arg-type]
        kind = b"text/xml" if style == "text/xml" else b"application/x-www-form-urlencoded"
        headers.append((b"Content-Type", kind))
    framed = body
    if style == "chunked form":
        headers.append((b"Transfer-Encoding", b"chunked"))
        framed = chunked(body, rng)
    target_bytes = path.encode() + (b"?" + form(query) if query else b"")  # type: ignore[arg-type]
    return Case(
        f"call/{where}/{style}",
        request(target=target_bytes, headers=headers, body=framed),
        resource,
        tokens=[token] if where != "none" else [],
    )


def odd_method(rng: random.Random, target: Target) -> Case:
    resource = rng.choice(sorted(target.resources))
    path, token = site_path(rng, target, resource)
    method = rng.choice(
        [
            b"post",
            b"PoSt",
            b"Post",
            b"GET",
            b"PUT",
            b"DELETE",
            b"HEAD",
            b"OPTIONS",
            b"PATCH",
            b"TRACE",
            b"P0ST",
            b"POST\x00",
            b"PO ST",
            b"",
            b"M" * 300,
            b"\xd0\x9f\xd0\x9e\xd0\xa1\xd0\xa2",
            token.encode(),
            token.upper().encode(),
        ]
    )
    data = request(method=method, target=f"{path}?apiToken={token}".encode())
    return Case(
        "method/" + method[:12].decode("latin-1").strip(),
        data,
        resource,
        head=method == b"HEAD",
        tokens=[token],
    )


def odd_request_line(rng: random.Random, target: Target) -> Case:
    resource = rng.choice(sorted(target.resources))
    path, token = site_path(rng, target, resource)
    full = f"{path}?apiToken={token}".encode()
    lines: dict[str, bytes | None] = {
        "no version": b"POST " + full + b"\r\n",
        "HTTP/0.9": b"POST " + full + b" HTTP/0.9\r\n",
        "HTTP/1.0": b"POST " + full + b" HTTP/1.0\r\n",
        "HTTP/1.2": b"POST " + full + b" HTTP/1.2\r\n",
        "HTTP/2.0": b"POST " + full + b" HTTP/2.0\r\n",
        "version junk": b"POST " + full + b" HTTP/1.1 x\r\n",
        "version token": b"POST " + path.encode() + b" " + token.encode() + b"\r\n",
        "two spaces": b"POST  " + full + b"  HTTP/1.1\r\n",
        "tabs": b"POST\t" + full + b"\tHTTP/1.1\r\n",
        "bare LF": b"POST " + full + b" HTTP/1.1\n",
        "CR inside": b"POST " + full + b"\r HTTP/1.1\r\n",
        "NUL in path": b"POST " + full + b"\x00 HTTP/1.1\r\n",
        "not UTF-8 in path": b"POST "
        + path.encode()
        + b"\xff\xfe?apiToken="
        + token.encode()
        + b" HTTP/1.1\r\n",
        "absolute form": b"POST http://127.0.0.1" + full + b" HTTP/1.1\r\n",
        "asterisk": b"POST * HTTP/1.1\r\n",
        "no slash": b"POST demo/api/event.do HTTP/1.1\r\n",
        "fragment": b"POST " + full + b"#" + token.encode() + b" HTTP/1.1\r\n",
        "empty": b"\r\n",
        "garbage": None,  # drawn below: random bytes
        "URL of 4095 bytes": b"POST "
        + path.encode()
        + b"?apiToken="
        + token.encode()
        + b"&x="
        + b"a" * 4095
        + b" HTTP/1.1\r\n",
        "URL of 20000 bytes": b"POST " + path.encode() + b"?x=" + b"a" * 20000 + b" HTTP/1.1\r\n",
    }
    name = rng.choice(sorted(lines))
    line = lines[name]
    if line is None:
        line = bytes(rng.randrange(256) for _ in range(rng.randint(1, 200))) + b"\r\n"
    data = line + b"Host: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
    return Case("request line/" + name, data, resource, tokens=[token])


def odd_headers(rng: random.Random, target: Target) -> Case:
    resource = rng.choice(sorted(target.resources))
    path, token = site_path(rng, target, resource)
    body = form([("apiToken", token)])
    tok = token.encode()
    variants: dict[str, tuple[list[tuple[bytes, bytes | None]], bool]] = {
        "NUL in a value": ([(b"Authorization", b"Bearer " + tok + b"\x00")], True),
        "not UTF-8 value": ([(b"X-Note", b"\xff\xfe\xfd")], True),
        "not UTF-8 name": ([(b"X-\xff", b"1")], True),
        "control char": ([(b"X-Note", b"a\x01b")], True),
        "no colon": ([(tok, None)], True),
        "space before colon": ([(b"Authorization ", b"Bearer " + tok)], True),
        "token as a name": ([(tok, b"1")], True),
        "obsolete folding": ([(b"X-Note", b"a\r\n folded " + tok)], True),
        "Content-Length bad": ([(b"Content-Length", b"abc")], False),
        "Content-Length negative": ([(b"Content-Length", b"-5")], False),
        "Content-Length hex": ([(b"Content-Length", b"0x10")], False),
        "Content-Length plus": ([(b"Content-Length", b"+10")], False),
        "Content-Length huge": ([(b"Content-Length", b"99999999999999999999999")], False),
        "Content-Length repeated": (
            [(b"Content-Length", str(len(body)).encode())] * 2,
            False,
        ),
        "Content-Length two values": (
            [(b"Content-Length", f"{len(body)}, {len(body)}".encode())],
            False,
        ),
        "Content-Length and chunked": (
            [(b"Content-Length", b"5"), (b"Transfer-Encoding", b"chunked")],
            False,
        ),
        "Transfer-Encoding gzip, chunked": ([(b"Transfer-Encoding", b"gzip, chunked")], False),
        "Transfer-Encoding deflate, chunked": (
            [(b"Transfer-Encoding", b"deflate, chunked")],
            False,
        ),
        "Transfer-Encoding br, chunked": ([(b"Transfer-Encoding", b"br, chunked")], False),
        "Transfer-Encoding chunked, gzip": ([(b"Transfer-Encoding", b"chunked, gzip")], False),
        "Transfer-Encoding chunked twice": (
            [(b"Transfer-Encoding", b"chunked"), (b"Transfer-Encoding", b"chunked")],
            False,
        ),
        "Transfer-Encoding identity": ([(b"Transfer-Encoding", b"identity")], False),
        "Transfer-Encoding x": ([(b"Transfer-Encoding", b"x" + tok)], False),
        "header of 8 KB": ([(b"X-Pad", b"a" * 8200)], True),
        "header of 64 KB": ([(b"X-Pad", b"a" * 65536)], True),
        "101 headers": ([(f"X-{i}".encode(), b"a") for i in range(101)], True),
        "Host twice": ([(b"Host", b"127.0.0.1"), (b"Host", b"example.org")], True),
        "Host token": ([(b"Host", tok)], True),
        "Host empty": ([(b"Host", b"")], True),
        "Expect odd": ([(b"Expect", b"200-ok")], True),
        "Expect 100-continue": ([(b"Expect", b"100-continue")], True),
        "Content-Type twice": (
            [(b"Content-Type", b"text/xml"), (b"Content-Type", b"text/plain")],
            True,
        ),
        "Content-Type junk": ([(b"Content-Type", b"multipart/form-data")], True),
        "Content-Type charset": (
            [(b"Content-Type", b"application/x-www-form-urlencoded; charset=latin-1")],
            True,
        ),
        "Authorization odd": ([(b"Authorization", b"Basic " + tok)], True),
        "Authorization huge": ([(b"Authorization", b"Bearer " + b"x" * 8000)], True),
        "Cookie token": ([(b"Cookie", b"apiToken=" + tok)], True),
        "X-Forwarded-For junk": ([(b"X-Forwarded-For", b"<script>, " + tok)], True),
        "Forwarded scheme clash": (
            [(b"X-Forwarded-Proto", b"https"), (b"X-Forwarded-Ssl", b"off")],
            True,
        ),
    }
    name = rng.choice(sorted(variants))
    headers, sized = variants[name]
    if not name.startswith("Content-Type"):
        headers = [*headers, (b"Content-Type", b"application/x-www-form-urlencoded")]
    data = request(
        target=path.encode(),
        headers=headers,
        body=chunked(body, rng) if name.startswith("Transfer-Encoding") else body,
        length=sized,
    )
    return Case("headers/" + name, data, resource, tokens=[token])


def odd_chunked(rng: random.Random, target: Target) -> Case:
    resource = rng.choice(sorted(target.resources))
    path, token = site_path(rng, target, resource)
    body = form([("apiToken", token), *call_params(rng, target, resource)])  # type: ignore[list-item]
    tok = token.encode()
    n = b"%x" % len(body)

    def good() -> bytes:
        return chunked(body, rng)

    variants: dict[str, Callable[[], bytes]] = {
        "valid": good,
        "valid, one byte a chunk": lambda: (
            b"".join(b"1\r\n" + bytes([c]) + b"\r\n" for c in body) + b"0\r\n\r\n"
        ),
        "valid, extension": lambda: n + b";name=value\r\n" + body + b"\r\n0\r\n\r\n",
        "valid, trailer": lambda: good()[:-2] + b"X-Trailer: " + tok + b"\r\n\r\n",
        "size not hex": lambda: b"zz\r\n" + body + b"\r\n0\r\n\r\n",
        "size negative": lambda: b"-5\r\n" + body + b"\r\n0\r\n\r\n",
        "size empty": lambda: b"\r\n" + body + b"\r\n0\r\n\r\n",
        "size huge": lambda: b"ffffffffffffffffffff\r\nab\r\n0\r\n\r\n",
        "size is a token": lambda: tok + b"\r\n" + body + b"\r\n0\r\n\r\n",
        "size with spaces": lambda: b" " + n + b" \r\n" + body + b"\r\n0\r\n\r\n",
        "extension bad": lambda: n + b";\x01\r\n" + body + b"\r\n0\r\n\r\n",
        "extension token": lambda: n + b";" + tok + b'="\x00"\r\n' + body + b"\r\n0\r\n\r\n",
        "size larger than data": lambda: b"%x\r\n" % (len(body) + 100) + body,
        "chunk without CRLF": lambda: n + b"\r\n" + body + b"XX0\r\n\r\n",
        "no last chunk": lambda: n + b"\r\n" + body + b"\r\n",
        "no end after last chunk": lambda: n + b"\r\n" + body + b"\r\n0\r\n",
        "bare LF": lambda: n + b"\n" + body + b"\n0\n\n",
        "trailer bad": lambda: good()[:-2] + b"Bad Trailer\r\n\r\n",
        "trailer Content-Length": lambda: good()[:-2] + b"Content-Length: 5\r\n\r\n",
        "empty body": lambda: b"0\r\n\r\n",
        "over 1 MiB": lambda: chunked(b"pad=" + b"a" * MiB, rng),
        "exactly 1 MiB": lambda: chunked(body + b"&pad=" + b"a" * (MiB - len(body) - 5), rng),
        "truncated": lambda: good()[: rng.randint(1, max(1, len(body)))],
    }
    name = rng.choice(sorted(variants))
    headers = [
        (b"Transfer-Encoding", b"chunked"),
        (b"Content-Type", b"application/x-www-form-urlencoded"),
    ]
    data = request(target=path.encode(), headers=headers, body=variants[name](), length=False)
    return Case("chunked/" + name, data, resource, tokens=[token])


def odd_path(rng: random.Random, target: Target) -> Case:
    resource = rng.choice(sorted(target.resources))
    path, token = site_path(rng, target, resource)
    code_part, _, rest = path.rpartition("/api/")
    paths = {
        "API upper": f"{code_part}/API/{rest}",
        "Api mixed": f"{code_part}/Api/{rest}",
        "UAT upper": f"/UAT/demo/api/{rest}",
        "resource case": f"{code_part}/api/{rest.upper()}",
        "event code upper": path.replace("demo", "DEMO"),
        "dot dot admin": f"/admin/..{path}",
        "dot dot deep": f"/a/b/../..{path}",
        "dot dot after": f"{path}/../{rest}",
        "dot dot up": f"{code_part}/api/../api/{rest}",
        "dot segment": f"{code_part}/./api/{rest}",
        "double slash": f"/{path}",
        "slashes inside": f"{code_part}//api//{rest}",
        "percent api": f"{code_part}/%61pi/{rest}",
        "percent slash": f"{code_part}/api%2F{rest}",
        "percent dot dot": f"/admin/%2e%2e{path}",
        "percent NUL": f"{code_part}/api/{rest}%00",
        "percent not UTF-8": f"{code_part}/api/%FF%FE{rest}",
        "percent newline": f"{code_part}/api/{rest}%0A",
        "percent bad": f"{code_part}/api/%zz{rest}",
        "unknown resource": f"{code_part}/api/nothingHere.do",
        "no .do": f"{code_part}/api/{rest[:-3]}",
        "trailing slash": f"{path}/",
        "api only": f"{code_part}/api",
        "api slash": f"{code_part}/api/",
        "unknown event": path.replace("demo", "no-such-event"),
        "event code odd": path.replace("demo", "dé<mo>"),
        "token as resource": f"{code_part}/api/{token}.do",
        "token as event": f"/{token}/api/{rest}",
        "token escaped as resource": f"{code_part}/api/{token[:3]}%5F{token[4:]}.do",
        "long resource": f"{code_part}/api/{'r' * 300}.do",
        "unicode": f"{code_part}/api/événement.do",
        "html": f"{code_part}/api/<script>.do",
    }
    name = rng.choice(sorted(paths))
    raw = paths[name]
    encoded = quote(raw, safe="/%:@!$&'()*+,;=-._~")
    headers = [(b"Content-Type", b"application/x-www-form-urlencoded")]
    body = form([("apiToken", token)])
    return Case(
        "path/" + name,
        request(target=encoded.encode(), headers=headers, body=body),
        resource,
        tokens=[token],
    )


def odd_body(rng: random.Random, target: Target) -> Case:
    resource = rng.choice(sorted(target.resources))
    path, token = site_path(rng, target, resource)
    tok = token.encode()
    auth = [(b"Authorization", b"Bearer " + tok)]
    urlencoded = (b"Content-Type", b"application/x-www-form-urlencoded")
    other = rng.choice(target.fake_tokens).encode()
    binary = bytes(rng.randrange(256) for _ in range(300))
    variants: dict[str, tuple[list[tuple[bytes, bytes]], bytes | None, bool]] = {
        "over 1 MiB": ([urlencoded], None, True),  # drawn below: 1 MiB and more
        "10001 parameters": ([urlencoded], b"apiToken=" + tok + b"&a=1" * 10_001, True),
        "parameters repeated": ([urlencoded], b"apiToken=" + tok + b"&event=1&event=2", True),
        "token twice": ([urlencoded], b"apiToken=" + tok + b"&apiToken=" + tok, True),
        "token in query and body differ": ([urlencoded], b"apiToken=" + other, True),
        "token escaped": (
            [urlencoded],
            b"apiToken=" + tok.replace(b"_", b"%5F").replace(b"c", b"%63", 1),
            True,
        ),
        "token as a name": ([urlencoded, *auth], tok + b"=1", True),
        "not UTF-8": ([urlencoded, *auth], b"firstName=%FF%FE&x=\xff", True),
        "NUL": ([urlencoded, *auth], b"firstName=a%00b", True),
        "XML body": (
            [(b"Content-Type", b"text/xml"), *auth],
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>',
            True,
        ),
        "JSON body": ([(b"Content-Type", b"application/json"), *auth], b'{"a": [1, 2]}', True),
        "multipart no boundary": (
            [(b"Content-Type", b"multipart/form-data"), *auth],
            b"--x\r\n",
            True,
        ),
        "multipart broken": (
            [(b"Content-Type", b"multipart/form-data; boundary=zz"), *auth],
            b"--zz\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--zz",
            True,
        ),
        "multipart file": (
            [(b"Content-Type", b"multipart/form-data; boundary=zz"), *auth],
            b'--zz\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nx\r\n'
            b"--zz--\r\n",
            True,
        ),
        "multipart token name": (
            [(b"Content-Type", b"multipart/form-data; boundary=zz"), *auth],
            b'--zz\r\nContent-Disposition: form-data; name="' + tok + b'"\r\n\r\n1\r\n--zz--\r\n',
            True,
        ),
        "multipart encoded name": (
            [(b"Content-Type", b"multipart/form-data; boundary=zz"), *auth],
            b"--zz\r\nContent-Disposition: form-data; name*=latin-1''caf%E9\r\n\r\n1\r\n--zz--\r\n",
            True,
        ),
        "shorter than Content-Length": (
            [urlencoded, (b"Content-Length", b"500")],
            b"apiToken=" + tok,
            False,
        ),
        "longer than Content-Length": (
            [urlencoded, (b"Content-Length", b"9")],
            b"apiToken=" + tok,
            False,
        ),
        "binary": ([(b"Content-Type", b"application/octet-stream"), *auth], binary, True),
    }
    name = rng.choice(sorted(variants))
    headers, body, sized = variants[name]
    if body is None:
        body = b"apiToken=" + tok + b"&pad=" + b"a" * MiB
    query = b"?apiToken=" + tok if name == "token in query and body differ" else b""
    data = request(target=path.encode() + query, headers=headers, body=body, length=sized)
    return Case("body/" + name, data, resource, tokens=[token])


def cut_short(rng: random.Random, target: Target) -> Case:
    """A request whose head stops before its end, the client then closing its side: there is no
    request to answer (gunicorn closes without a word, as any server may)."""
    inner = ordinary_call(rng, target)
    head_end = inner.data.find(b"\r\n\r\n")
    cut = rng.randint(1, max(1, head_end))
    return Case(
        "cut short/head", inner.data[:cut], inner.resource, complete=False, tokens=inner.tokens
    )


# (generator, weight): most requests are calls with odd values; each kind of oddity of the
# HTTP layer gets enough to meet all of its variants many times over in 5,000 requests.
GENERATORS: list[tuple[Callable[[random.Random, Target], Case], int]] = [
    (ordinary_call, 30),
    (odd_method, 8),
    (odd_request_line, 12),
    (odd_headers, 16),
    (odd_chunked, 12),
    (odd_path, 12),
    (odd_body, 8),
    (cut_short, 2),
]


def cases(rng: random.Random, target: Target, count: int):
    """`count` cases, the same ones for the same seed."""
    generators = [g for g, _ in GENERATORS]
    weights = [w for _, w in GENERATORS]
    for _ in range(count):
        (generator,) = rng.choices(generators, weights)
        yield generator(rng, target)

"""The generated reference cannot drift from the code: the committed file is what `confero docs`
writes now, and the served page lists exactly the registered resources and the code table."""

import json
import re
from pathlib import Path

from confero.api.codes import CODES
from confero.api.reference import render_markdown
from confero.api.registry import REGISTRY

ROOT = Path(__file__).resolve().parents[2]


def test_committed_api_reference_is_current():
    committed = (ROOT / "docs" / "api-reference.md").read_text()
    assert committed == render_markdown(), "run `make docs` and commit docs/api-reference.md"


def test_reference_page_lists_every_resource_and_code(client):
    response = client.get("/docs/api")

    assert response.status_code == 200
    html = response.content.decode()
    assert set(re.findall(r'<h3 id="([A-Za-z]+)">', html)) == set(REGISTRY)
    rows = re.findall(r'<tr id="code-(\d+)"><td>\d+</td><td>(\d+)</td>', html)
    assert {int(code): int(status) for code, status in rows} == {
        c.number: c.http_status for c in CODES.values()
    }


def test_code_table_endpoint_is_the_runtime_table(client):
    response = client.get("/docs/api/codes")

    assert json.loads(response.content) == {
        "codes": [
            {"code": c.number, "http": c.http_status, "meaning": c.meaning} for c in CODES.values()
        ]
    }


def test_markdown_appendix_has_every_code_once():
    appendix = render_markdown().split("## Appendix A")[1]
    numbers = [int(n) for n in re.findall(r"^\| (\d+) \| \d{3} \|", appendix, flags=re.M)]
    assert numbers == list(CODES)


def test_reference_page_opens_with_a_table_of_contents_of_every_resource(client):
    html = client.get("/docs/api").content.decode()

    contents = html.split('<nav id="contents"', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'<a href="#([A-Za-z]+)"><code>', contents) == sorted(
        REGISTRY, key=list(re.findall(r'<h3 id="([A-Za-z]+)">', html)).index
    )
    assert '<a href="#codes">' in contents

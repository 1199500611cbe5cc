"""demo.py: the demo event's exhibitors with staff and its conversation, seen through the API
with the tokens `confero demo` prints, and kept as they are when it runs again. The event, its
tokens and its login: tests/cli/test_cli.py."""

from confero.demo import ensure_demo
from confero.exhibitors.models import Exhibitor
from confero.messaging.models import Message
from confero.people.models import User


def test_demo_has_exhibitors_with_staff_and_a_conversation_on_each_site(api, db):
    info = ensure_demo()
    ada = User.objects.get(site__environment="production", email="ada@example.org")

    for environment, prefix in (("production", "/"), ("uat", "/uat/")):
        token = info.tokens[environment]
        exhibitors = api.call(f"{prefix}demo/api/exhibitorData.do", {"apiToken": token}).xml
        messages = api.call(
            f"{prefix}demo/api/messages.do", {"apiToken": token, "clientID": "CRM-1001"}
        ).xml

        assert [
            (
                e.findtext("exhibitorCode"),
                e.findtext("booth"),
                e.find("Sponsor-level").text,
                e.find("Sponsor-level").get("other"),
                [(p.findtext("firstName"), p.findtext("role")) for p in e.findall("participant")],
                [f.findtext("displayName") for f in e.findall("exhibitorFile")],
            )
            for e in exhibitors.findall("exhibitor")
        ] == [
            ("EXH-AE", "A1", "gold", None, [("Ada", "Lead"), ("Alan", "Engineer")], ["Brochure"]),
            ("EXH-CW", "B7", "other", "Community partner", [("Grace", "Sales")], []),
        ]
        assert [
            (m.findtext("direction"), m.findtext("subject"), m.findtext("read"))
            for m in messages.findall("message")
        ] == [
            ("out", "Re: Coffee at booth A1?", "false"),
            ("in", "Coffee at booth A1?", "true"),
        ]
    assert messages.find("message/fromUserRef").text != ada.user_ref  # UAT's Ada is another user


def test_demo_again_keeps_exhibitors_and_messages_as_they_are(api, db):
    first = ensure_demo()
    api.call(
        "/demo/api/updateExhibitor.do",
        {"apiToken": first.tokens["production"], "exhibitorCode": "EXH-CW", "booth": "C9"},
    )

    ensure_demo()

    assert Exhibitor.objects.count() == 4
    assert Message.objects.count() == 4
    assert Exhibitor.objects.get(site__environment="production", exhibitor_code="EXH-CW").booth == (
        "C9"
    )

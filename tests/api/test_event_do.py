from confero.access.models import ApiCall


def test_event_do_lists_the_calling_event(api, live_site):
    result = api.call(live_site.url("event"), {"apiToken": live_site.token})

    assert result.status == 200
    assert result.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert result.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<api><response code="0">Success</response>')
    events = result.xml.findall("event")
    assert [e.findtext("eventGUID") for e in events] == [live_site.event.guid_text]
    assert events[0].findtext("environment") == "production"
    call = ApiCall.objects.get()
    assert (call.resource, call.code, call.http_status, call.site_id) == ("event", 0, 200, live_site.site.pk)

"""event.do (contract §8.1)."""

from confero.api.call import Call
from confero.api.registry import resource
from confero.api.render import Document, E, Node
from confero.events.models import Event


@resource("event", summary="The events (GUIDs) this token may name in `event`.")
def event_list(call: Call) -> Document:
    """With Account Level Access: every event of the account, in the calling environment.
    Without it: the calling event only. With `event=GUID`: that event alone."""
    environment = call.site.environment
    if call.event_param or not call.profile.account_level_access:
        events = [site.event for site in call.sites]
    else:
        events = list(Event.objects.filter(account_id=call.site.event.account_id).order_by("code"))
    return Document(
        children=[_event_node(event, environment) for event in events],
        key=(environment, *(_rendered_values(event) for event in events)),
    )


def _rendered_values(event: Event) -> tuple:
    """Everything of an event that its node shows."""
    return (event.guid_text, event.code, event.name, event.start_date, event.end_date,
            event.time_zone)  # fmt: skip


def _event_node(event: Event, environment: str) -> Node:
    return Node(
        "event",
        many=True,
        children=[
            E("eventGUID", event.guid_text),
            E("code", event.code),
            E("name", event.name),
            E("startDate", event.start_date),
            E("endDate", event.end_date),
            E("timeZone", event.time_zone),
            E("environment", environment),
        ],
    )

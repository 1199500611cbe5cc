"""customFields.do (contract §8.6): the custom fields an integration can send and will read."""

from confero.api.call import Call
from confero.api.registry import resource
from confero.api.render import Document, E, Node
from confero.customfields.models import CustomField
from confero.events.models import Site


@resource(
    "customFields", summary="Every custom field of the site, with its values.", accepts_all=True
)
def custom_fields(call: Call) -> Document:
    """Includes the built-in user field "External API Identifier" (code `clientID`, element
    `externalRef`), which holds clientID. A value's `id` is its custom value ID (rule 4)."""
    fields = (
        CustomField.objects.filter(site__in=call.sites)
        .select_related("site__event")
        .prefetch_related("values")
        .order_by("site_id", "position", "id")
    )
    nodes: list[Node] = []
    for site in call.sites:
        nodes.append(_builtin_client_id(site))
    nodes += [_field_node(field) for field in fields]
    return Document(children=nodes)


def _builtin_client_id(site: Site) -> Node:
    return Node(
        "customField",
        many=True,
        children=[
            E("eventGUID", site.event.guid_text),
            E("code", "clientID"),
            E("displayName", "External API Identifier"),
            E("elementName", "externalRef"),
            E("recordType", "user"),
            E("type", "text"),
            E("builtIn", True),
        ],
    )


def _field_node(field: CustomField) -> Node:
    values = [
        Node(
            "value",
            many=True,
            children=[
                E("id", value.pk),
                E("code", value.code),
                E("label", value.label),
                E("other", value.is_other),
                E("constraint", value.constraint),
            ],
        )
        for value in field.values.all()
    ]
    return Node(
        "customField",
        many=True,
        children=[
            E("eventGUID", field.site.event.guid_text),
            E("code", field.code),
            E("displayName", field.display_name),
            E("elementName", field.element_name),
            E("recordType", field.record_type),
            E("type", field.field_type),
            E("builtIn", False),
            *values,
        ],
    )

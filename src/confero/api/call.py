"""What a resource handler gets: the checked, typed request (built by confero.api.pipeline)."""

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from confero.access.models import ApiProfile, ApiToken
from confero.api.params import RawParams
from confero.events.models import Site


@dataclass
class Call:
    request: HttpRequest
    site: Site  # the site whose URL was called
    profile: ApiProfile
    token: ApiToken
    params: dict[str, Any]  # declared parameters, typed
    custom: RawParams  # every other parameter: custom-field codes of the resource's record type
    sites: list[Site]  # the target sites: [one] or, with event=all, every site of the account
    event_all: bool
    event_param: str  # the `event` value as sent ("" when absent)
    acting_user: Any = None  # the user named by userKey/clientID, for resources that act
    extra_log: dict[str, str] = field(default_factory=dict)

    @property
    def target(self) -> Site:
        """The one target site, for resources that do not take event=all."""
        return self.sites[0]

    @property
    def wants_json(self) -> bool:
        return self.params.get("format") == "json"

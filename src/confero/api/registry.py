"""Resources declare what they take; the pipeline checks it before a resource runs."""

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from confero.api.call import Call
from confero.api.params import Param

# Parameters every resource takes; the pipeline reads them itself.
STANDARD_PARAMS = ("apiToken", "event", "format")
ACTING_PARAMS = ("userKey", "clientID", "userRef")


@dataclass(frozen=True)
class Resource:
    name: str  # as in the URL, without ".do"
    handler: Callable[[Call], Any]
    summary: str
    params: tuple[Param, ...] = ()
    accepts_all: bool = False  # takes event=all (contract §8, marked *all*)
    acts_as_user: bool = False  # needs userKey or clientID (marked *act*)
    # Whether the pipeline locks the acting user's row for a writing call. Off where the
    # resource's service locks the user itself, in its own lock order (scheduling: session
    # times → users → sessions, decision 0016): locking the user first would hold it while the
    # service waits for a session time that another call holds while it waits for this user,
    # a deadlock (decision 0020). Calls that write nothing never lock it.
    lock_acting_user: bool = True
    writes: bool = False  # runs in one write transaction
    custom_fields: str | None = None  # record type whose custom-field codes it accepts
    # The record type whose standard parameters these are, though the resource takes no custom
    # fields (addSessionTime.do's `room`): custom fields of that type may not take their names.
    record_type: str | None = None
    is_feed: bool = False
    doc: str = ""
    param_index: dict[str, Param] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.param_index.update({param.name: param for param in self.params})


REGISTRY: dict[str, Resource] = {}


def resource(name: str, *, summary: str, **options: Any) -> Callable:
    """Registers the decorated function as the handler of `/…/api/NAME.do`."""

    def register(handler: Callable) -> Callable:
        if name in REGISTRY:
            raise RuntimeError(f"resource {name}.do registered twice")
        if reserved_for := options.get("custom_fields") or options.get("record_type"):
            from confero.customfields.services import reserve

            # A custom field code may not shadow any parameter of a resource that takes them,
            # nor a standard parameter of its record type sent to another resource.
            names = [param.name for param in options.get("params", ())]
            reserve(
                reserved_for,
                codes=[*names, *STANDARD_PARAMS, *ACTING_PARAMS],
                elements=(),
            )
        REGISTRY[name] = Resource(
            name=name,
            handler=handler,
            summary=summary,
            doc=inspect.cleandoc(handler.__doc__ or ""),
            **options,
        )
        return handler

    return register

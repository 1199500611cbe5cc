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
    writes: bool = False  # runs in one write transaction
    custom_fields: str | None = None  # record type whose custom-field codes it accepts
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
        if options.get("custom_fields"):
            from confero.customfields.services import reserve

            # A custom field code may not shadow any parameter of a resource that takes them.
            names = [param.name for param in options.get("params", ())]
            reserve(
                options["custom_fields"],
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

"""Every module here registers its resources with the pipeline when imported."""

from confero.api.resources import (  # noqa: F401
    customfields,
    events,
    exhibitors,
    exports,
    messages,
    orders,
    scheduling,
    sessions,
    sessiontimes,
    speakers,
    users,
)

"""Every module here registers its resources with the pipeline when imported."""

from confero.api.resources import customfields, events, orders, users  # noqa: F401

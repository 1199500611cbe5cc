"""Confero: a self-hosted conference platform with a Cvent-Conference-style integration API."""

__version__ = "0.1.0"

"""Confero's settings with the deployment-side changes docs/performance.md measures, each switched
on by an environment variable (event_do.py sets them for the `+flag` targets):

- BENCH_MIDDLEWARE=api: only the middleware an API call needs (`SecurityMiddleware`,
  `CommonMiddleware`); no sessions, auth, messages, CSRF or clickjacking headers;
- BENCH_PG_PREPARE=1: psycopg's server-side binding on PostgreSQL (`OPTIONS.server_side_binding`).
  It prepares nothing by itself (Django sets psycopg's `prepare_threshold` to None), and it turns
  Confero's own prepared statements off (confero.rows, decision 0008): a knob to compare with;
- BENCH_NO_HEALTH_CHECK=1: no per-request connection health check (`CONN_HEALTH_CHECKS`), which
  costs a `SELECT 1` round trip on the first query of every request on PostgreSQL (API calls skip
  it anyway since decision 0008; the console does not).

Without any of them it is `confero.settings` unchanged. ceiling_django.py builds on it;
`DJANGO_SETTINGS_MODULE=tuned_settings` runs the real pipeline with the changes.
"""

import os

from confero.settings import *  # noqa: F403 - the point is to keep every setting
from confero.settings import DATABASES

if os.environ.get("BENCH_MIDDLEWARE") == "api":
    MIDDLEWARE = [
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.common.CommonMiddleware",
    ]

_POSTGRES = "postgresql" in DATABASES["default"]["ENGINE"]
if os.environ.get("BENCH_PG_PREPARE") == "1" and _POSTGRES:
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
if os.environ.get("BENCH_NO_HEALTH_CHECK") == "1":
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False

"""gunicorn's logger, with access-log lines built from the fields Confero's format uses.

gunicorn builds, for every request, a dictionary of every atom it knows — each request and
response header and every WSGI environ variable, then a copy with quotes escaped — and
formats from it. `confero serve`'s format uses six of them; building only those took ~0.1 ms
off every request on this project's machines (docs/performance.md). With any other format
(`GUNICORN_CMD_ARGS`), gunicorn's own atoms are used.

Every line it writes, access or error, to any handler gunicorn sets up (a file, stderr, syslog,
its `logconfig_dict`), is redacted: no token, wherever in the request a client sent it — the
path (`/demo/api/cfo_live_….do`), the request line or a header a malformed request is refused
for, a format that prints the query string or the Authorization header.
"""

import logging

from gunicorn.glogging import Logger as GunicornLogger

from confero.access.redaction import RedactingFormatter

ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


class Logger(GunicornLogger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log, logging.getLogger()):
            for handler in log.handlers:
                formatter = handler.formatter or logging.Formatter()
                if not isinstance(formatter, RedactingFormatter):
                    handler.setFormatter(RedactingFormatter(inner=formatter))

    def atoms(self, resp, req, environ, request_time):
        if self.cfg.access_log_format != ACCESS_LOG_FORMAT:
            return super().atoms(resp, req, environ, request_time)
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        return {
            "h": environ.get("REMOTE_ADDR", "-"),
            "m": environ.get("REQUEST_METHOD"),
            "U": environ.get("PATH_INFO"),
            "s": status,
            "B": getattr(resp, "sent", None),
            "M": request_time.seconds * 1000 + request_time.microseconds // 1000,
        }

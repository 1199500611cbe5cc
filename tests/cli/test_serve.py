"""`confero serve`: the gunicorn command line it runs, and its access log
(confero.gunicorn_logging), whose lines must be exactly gunicorn's own for Confero's format,
without query strings."""

import datetime as dt

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger as GunicornLogger

from confero import cli
from confero.gunicorn_logging import ACCESS_LOG_FORMAT, Logger


class Exec(Exception):
    pass


def test_serve_runs_gunicorn_with_confero_s_access_log_and_logger(monkeypatch, db, tmp_path):
    ran = []

    def execv(path, argv):
        ran.append(argv)
        raise Exec

    monkeypatch.setattr(cli.os, "execv", execv)
    monkeypatch.setattr("django.core.management.call_command", lambda *a, **k: None)

    with pytest.raises(Exec):
        cli.main(["serve", "--port", "8123", "--workers", "3"])

    argv = ran[0]
    options = dict(zip(argv[2::2], argv[3::2], strict=False))
    assert argv[1] == "confero.wsgi:application"
    assert options["--bind"] == "127.0.0.1:8123"
    assert options["--workers"] == "3"
    assert options["--access-logfile"] == "-"
    assert (
        options["--access-logformat"]
        == ACCESS_LOG_FORMAT
        == '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
    )
    assert options["--logger-class"] == "confero.gunicorn_logging.Logger"
    assert options["--worker-class"] == "confero.gunicorn_worker.SyncWorker"


class Response:
    status = "200 OK"
    sent = 326
    headers = [("Content-Type", "application/xml; charset=utf-8"), ("Cache-Control", "no-store")]


class Request:
    headers = [("HOST", "127.0.0.1:8000"), ("USER-AGENT", 'wrk "4.1"')]


ENVIRON = {
    "REMOTE_ADDR": "203.0.113.7",
    "REQUEST_METHOD": "POST",
    "PATH_INFO": '/bench/api/event"s.do',
    "RAW_URI": "/bench/api/event.do?apiToken=cfo_live_secret",
    "QUERY_STRING": "apiToken=cfo_live_secret",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "HTTP_USER_AGENT": 'wrk "4.1"',
}


def access_line(logger_class, log_format: str, path) -> str:
    cfg = Config()
    cfg.set("accesslog", str(path))
    cfg.set("access_log_format", log_format)
    logger = logger_class(cfg)
    logger.access(Response(), Request(), ENVIRON, dt.timedelta(seconds=1, microseconds=234567))
    for handler in logger.access_log.handlers:
        handler.flush()
    return path.read_text()


def test_access_line_is_gunicorn_s_own_without_the_query_string(tmp_path):
    ours = access_line(Logger, ACCESS_LOG_FORMAT, tmp_path / "ours.log")
    theirs = access_line(GunicornLogger, ACCESS_LOG_FORMAT, tmp_path / "theirs.log")

    assert ours == theirs == '203.0.113.7 "POST /bench/api/event\\"s.do" 200 326 1234ms\n'
    assert "secret" not in ours


def test_another_access_log_format_gets_all_of_gunicorn_s_fields(tmp_path):
    log_format = "%(h)s %({user-agent}i)s %(a)s %(H)s"

    ours = access_line(Logger, log_format, tmp_path / "ours.log")

    assert ours == access_line(GunicornLogger, log_format, tmp_path / "theirs.log")
    assert ours == '203.0.113.7 wrk \\"4.1\\" wrk \\"4.1\\" HTTP/1.1\n'


TOKEN = "cfo_live_AbCdEfGh" + "s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3"


def test_access_line_holds_no_token_of_the_path(tmp_path, monkeypatch):
    monkeypatch.setitem(ENVIRON, "PATH_INFO", f"/demo/api/{TOKEN}.do")

    line = access_line(Logger, ACCESS_LOG_FORMAT, tmp_path / "ours.log")

    assert line == '203.0.113.7 "POST /demo/api/cfo_live_AbCdEfGh….do" 200 326 1234ms\n'


def test_access_line_of_another_format_holds_no_token(tmp_path, monkeypatch):
    """A format printing the request line (with its query string) and a header."""
    monkeypatch.setitem(ENVIRON, "RAW_URI", f"/demo/api/event.do?apiToken={TOKEN}")
    monkeypatch.setitem(ENVIRON, "QUERY_STRING", f"apiToken={TOKEN}")
    monkeypatch.setattr(Request, "headers", [("AUTHORIZATION", f"Bearer {TOKEN}")])

    line = access_line(Logger, "%(r)s %({authorization}i)s", tmp_path / "ours.log")

    assert line == (
        "POST /demo/api/event.do?apiToken=cfo_live_AbCdEfGh… HTTP/1.1 Bearer cfo_live_AbCdEfGh…\n"
    )


def test_error_line_holds_no_token(tmp_path):
    cfg = Config()
    cfg.set("errorlog", str(tmp_path / "error.log"))
    logger = Logger(cfg)

    logger.warning("Invalid request from ip=%s: %s", "203.0.113.7", f"'post /x?t={TOKEN}'")
    for handler in logger.error_log.handlers:
        handler.flush()

    text = (tmp_path / "error.log").read_text()
    assert text.endswith("Invalid request from ip=203.0.113.7: 'post /x?t=cfo_live_AbCdEfGh…'\n")

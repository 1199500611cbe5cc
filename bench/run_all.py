"""`make bench`: the event.do benchmark on SQLite and PostgreSQL, next to the ceilings, then the
updateUser.do load run (bench/update_user.py).

Arguments are passed on to bench/event_do.py (e.g. `make bench ARGS="--duration 5"` if the
Makefile passes ARGS, or `.venv/bin/python bench/run_all.py --duration 5`); update_user.py takes
the ones it shares with it (--db, --duration, --warmup, --rev, --keep, …) and ignores the rest.
"""

import sys

import event_do
import update_user


def main(argv: list[str]) -> int:
    status = event_do.main(argv)
    if any(arg == "--report" or arg.startswith("--report=") for arg in argv):
        return status  # only reprints event_do.py's table
    return max(status, update_user.main(argv, known_only=True))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

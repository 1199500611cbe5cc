"""`make bench`: the event.do benchmark on SQLite and PostgreSQL, next to the ceilings.

Arguments are passed on to bench/event_do.py (e.g. `make bench ARGS="--duration 5"` if the
Makefile passes ARGS, or `.venv/bin/python bench/run_all.py --duration 5`).
"""

import sys

import event_do

if __name__ == "__main__":
    sys.exit(event_do.main(sys.argv[1:]))

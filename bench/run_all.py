"""`make bench`: event.do against its ceilings, then updateUser.do, userData.do and addUser.do's
growth, each with its defaults (about 15 minutes on a quiet 2-CPU machine). Arguments go to
every script, e.g. `make bench ARGS="--db sqlite --rounds 1"`; the exit status is the worst one.
"""

import sys

import add_user
import event_do
import feeds
import update_user


def main(argv: list[str]) -> int:
    return max(script.main(argv) for script in (event_do, update_user, feeds, add_user))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

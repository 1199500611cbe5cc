"""What the people domain tells the domains above it, which it must not import.

Both are sent by `confero.people.services.cancel_user`, inside the cancelling transaction, and
their receivers take `user` (the `User` being cancelled) and must not swallow errors:

- `user_cancelling`, *before* the user's row is locked: a domain whose locks come before users'
  in its lock order takes them now (the programme locks the user's session times: session
  times → users → sessions, decision 0016), and may lock the user's row itself after them;
- `user_cancelled`, after the status changed: a receiver's writes (freeing the user's seats,
  moving waitlists up) commit or roll back with the cancellation.
"""

from django.dispatch import Signal

user_cancelling = Signal()
user_cancelled = Signal()

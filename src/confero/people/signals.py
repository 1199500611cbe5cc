"""What the people domain tells the domains above it, which it must not import.

`user_cancelled` is sent by `confero.people.services.cancel_user` inside the cancelling
transaction, after the status changed: a receiver's writes (freeing the user's seats, moving
waitlists up) commit or roll back with the cancellation. Receivers take `user` (the cancelled
`User`) and must not swallow errors.
"""

from django.dispatch import Signal

user_cancelled = Signal()

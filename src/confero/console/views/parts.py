"""What the pages that set a record's people (a session's speakers, a booth's staff) or files
share: the text a planner edits, and the users it names, looked up through the scope."""

from confero.console.recordforms import PeopleForm


def person_name(user) -> str:
    """How a line names a user: the email of an active user (what planners know), else the
    userRef (a cancelled user's email may be another active user's now)."""
    return user.email if user.is_active and user.email else user.user_ref


def people_text(people) -> str:
    """`people`: (user, role) pairs, as the form shows them."""
    return "\n".join(
        f"{person_name(user)} | {role}" if role else person_name(user) for user, role in people
    )


def resolve_people(request, site, form: PeopleForm) -> list | None:
    """The (user, role) pairs the valid `form` names, or None with an error on the form for
    each line naming nobody of the site."""
    people, problems = [], []
    for line in form.cleaned_data["people"]:
        user = request.scope.user_named(site, line.who)
        if user is None:
            problems.append(
                f"line {line.number}: no user of this site has the userRef, email or clientID "
                f"'{line.who[:100]}'"
            )
        else:
            people.append((user, line.role))
    for problem in problems:
        form.add_error("people", problem)
    return None if problems else people


def files_text(rows, *, with_description: bool = False) -> str:
    """`rows`: (name, type, size, url[, description]) tuples in the API's `file` notation."""
    lines = []
    for row in rows:
        parts = [str(part) for part in row[:4]]
        if with_description and row[4]:
            parts.append(row[4])
        lines.append(" | ".join(parts))
    return "\n".join(lines)

"""Characters XML 1.0 cannot carry: C0 controls but tab, LF and CR, U+FFFE, U+FFFF, and lone
surrogates (which UTF-8 cannot encode). Everything Confero stores may be answered in XML, so
every way in refuses them (the API's own check, with its codes, is confero.api.params)."""

import re

NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def not_xml(text: str) -> str | None:
    """Why `text` cannot be answered in XML (its first such character), or None."""
    if bad := NOT_XML.search(text):
        return f"contains the character U+{ord(bad.group()):04X}, which XML cannot carry"
    return None


def writable(value):
    """A stored value as XML can carry it: each such character replaced by U+FFFD."""
    return NOT_XML.sub("\ufffd", value) if isinstance(value, str) else value

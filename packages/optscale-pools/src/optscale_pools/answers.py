r"""Answer extraction: the content of the last ``\boxed{...}`` of a completion."""

from __future__ import annotations

BOXED = "\\boxed{"
"""Opening of a boxed answer."""


def extract_boxed(text: str) -> str | None:
    r"""Return the content of the last ``\boxed{...}`` whose braces balance, else ``None``.

    Completions cut at the token limit often end inside an unclosed ``\boxed{``; such an opening
    is skipped and the previous, closed one (if any) is returned.

    Parameters
    ----------
    text
        A completion.

    Returns
    -------
    str or None
        The text between the braces, verbatim (not stripped), or ``None`` when no closed
        ``\boxed{`` exists.

    Examples
    --------
    >>> extract_boxed(r"so \boxed{1} or rather \boxed{\frac{1}{2}}.")
    '\\frac{1}{2}'
    >>> extract_boxed(r"\boxed{3} then \boxed{\frac{1}")
    '3'
    >>> extract_boxed("no answer") is None
    True
    """
    start = text.rfind(BOXED)
    while start >= 0:
        depth = 1
        body = start + len(BOXED)
        for index in range(body, len(text)):
            char = text[index]
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    return text[body:index]
        start = text.rfind(BOXED, 0, start)
    return None

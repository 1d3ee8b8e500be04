"""The error every serving failure becomes: an HTTP status and an OpenAI-style error object."""

from __future__ import annotations

from typing import Any


class ServeError(Exception):
    """A failure answered to the client as an OpenAI-style error object.

    Parameters
    ----------
    status
        HTTP status of the answer.
    message
        One line saying what went wrong.
    kind
        The error object's ``type`` (e.g. ``"invalid_request_error"``, ``"upstream_error"``).
    param
        The request field at fault, when there is one.
    """

    def __init__(self, status: int, message: str, kind: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.param = param

    def body(self) -> dict[str, Any]:
        """Return the JSON error object, in the shape OpenAI's clients parse."""
        error = {"message": self.message, "type": self.kind, "param": self.param}
        return {"error": {**error, "code": self.status}}

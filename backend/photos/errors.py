"""Expected failures of the photo domain (besides :class:`~backend.photos.images.PhotoRejected`)."""

from __future__ import annotations

from backend.errors import DomainError


class DuplicatePhoto(DomainError):
    """The uploader already sent exactly this photo for another activity."""

    def __init__(self, message: str = "You already sent this photo for another activity. "
                                      "Please take a new photo.") -> None:
        super().__init__(message)


class NotAwaitingEvidence(DomainError):
    """The activity takes no photo now: decided, not photo-based, or a photo is being checked."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


class AlreadyDecided(DomainError):
    """The photo is no longer waiting for this decision (someone decided first)."""

    def __init__(self, status: str, message: str = "This photo has already been decided.") -> None:
        super().__init__(message)
        self.status = status

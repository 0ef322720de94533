"""Typed errors of the images package; ``api/errors.py`` maps them to the JSON error shape."""

from __future__ import annotations

from kg.errors import GujiError, NotFoundError, ValidationError


class ImageError(GujiError):
    code = "image_error"


class InvalidImageError(ValidationError):
    """An image file that can not be accepted: not an image, another format than declared, too
    large, corrupt or truncated. ``reason`` is a stable code; messages come in Chinese and English."""

    code = "invalid_image"

    def __init__(self, reason: str, message_zh: str, message_en: str, **details) -> None:
        super().__init__(message_en, reason=reason, **details)
        self.reason, self.message_zh, self.message_en = reason, message_zh, message_en


class ImageNotFoundError(NotFoundError):
    code = "image_not_found"


class ImageRequestError(ImageError):
    """A IIIF Image API request this service does not answer (bad region, size, rotation ...): 400."""

    code = "invalid_image_request"

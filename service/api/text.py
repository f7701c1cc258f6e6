"""Validators for text fields of the API's schemas (plugins reach them
through ``service.sdk``)."""
from __future__ import annotations

from marshmallow import ValidationError, validate


class NotBlank(validate.Validator):
    """Refuse text that is empty or only white space: a name, subject or
    message of spaces says nothing and would be stored as if it did."""

    error = "must not be blank"

    def __call__(self, value: str) -> str:
        if not value.strip():
            raise ValidationError(self.error)
        return value


def filled(max_length: int) -> list:
    """Validators for required prose: not blank, at most ``max_length``
    characters. Use as ``fields.String(validate=filled(200))``."""
    return [NotBlank(), validate.Length(max=max_length)]

"""Dumping output schemas with less machinery: the same fields, the same output.

marshmallow's ``Schema._serialize`` fetches every field's value through four
layers (``Field.serialize`` -> ``Field.get_value`` -> ``Schema.get_attribute``
-> ``utils.get_value``/``_get_value_for_key``), and a page of 25 tickets has
about 900 values: that fetching was a third of a list request. ``FastDump``
plans, once per schema instance, which attribute each output key reads, reads
it with one ``getattr`` (or ``dict`` lookup), and hands it to the field's own
``_serialize`` - so every value is formatted by marshmallow exactly as
before; only the fetching is shorter. The schemas stay the contract (the
OpenAPI document is generated from them, and tests compare this dump with
marshmallow's own on every kind of ticket).
"""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, missing
from marshmallow.utils import get_value


class FastDump(ma.Schema):
    """An output schema whose ``dump`` reads values directly (see the module).

    Falls back to marshmallow's own path for anything the plan does not
    cover: a dotted ``attribute``, a schema that overrides
    ``get_attribute``, an object that is neither a plain object nor a dict.
    """

    def _dump_plan(self) -> list[tuple]:
        # (output key, field name, attribute, field, reads a value?, plain
        # attribute?, type returned as it is) per dumped field; built on first
        # use, after ``only`` and ``exclude`` have settled dump_fields.
        plan = self.__dict__.get("_kefu_dump_plan")
        if plan is None:
            plan = []
            for name, field in self.dump_fields.items():
                key = field.data_key if field.data_key is not None else name
                attribute = field.attribute if field.attribute is not None else name
                plan.append((key, name, attribute, field, field._CHECK_ATTRIBUTE, "." not in attribute,
                             _unchanged(field), type(field) in _NONE_AS_NONE))
            self._kefu_dump_plan = plan
        return plan

    def _serialize(self, obj, *, many: bool = False):
        if many and obj is not None:
            return [self._serialize(item) for item in obj]
        if type(self).get_attribute is not ma.Schema.get_attribute:
            return super()._serialize(obj, many=False)
        # A plain object is read with getattr, a dict by key (then, as
        # marshmallow does, by attribute); anything else indexable (a Row)
        # goes through marshmallow's own accessor.
        plain = not hasattr(obj, "__getitem__")
        mapping = isinstance(obj, dict)
        out = {}
        for key, name, attribute, field, reads, simple, unchanged, keeps_none in self._dump_plan():
            if reads:
                if plain and simple:
                    value = getattr(obj, attribute, missing)
                elif mapping and simple:
                    value = obj.get(attribute, missing)
                    if value is missing:
                        value = getattr(obj, attribute, missing)
                else:
                    value = get_value(obj, attribute, missing)
                if value is missing:
                    default = field.dump_default
                    value = default() if callable(default) else default
                    if value is missing:
                        continue
                if type(value) is unchanged or (value is None and keeps_none):
                    out[key] = value  # what the field's _serialize would return
                    continue
            else:
                value = None
            out[key] = field._serialize(value, name, obj)
        return out


# Field classes (exactly these) whose _serialize returns None for None.
_NONE_AS_NONE = frozenset((fields.String, fields.Integer, fields.Boolean, fields.DateTime, fields.AwareDateTime,
                           fields.NaiveDateTime, fields.Nested, fields.List, fields.Dict, fields.Raw))


def _unchanged(field) -> type | None:
    """The type whose values ``field`` dumps unchanged, if any.

    Exact classes only: a subclass may format differently. ``String`` gives
    ``str(value)``, ``Integer`` ``int(value)`` (unless ``as_string``),
    ``Boolean`` True or False for its truthy/falsy sets (True and False among
    them)."""
    kind = type(field)
    if kind is fields.String:
        return str
    if kind is fields.Integer and not field.as_string:
        return int
    if kind is fields.Boolean and True in field.truthy and False in field.falsy:
        return bool
    return None

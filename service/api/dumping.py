"""Dumping output schemas with less machinery: the same fields, the same output.

marshmallow's ``Schema._serialize`` fetches every field's value through four
layers (``Field.serialize`` -> ``Field.get_value`` -> ``Schema.get_attribute``
-> ``utils.get_value``/``_get_value_for_key``) and formats it through two
more, and a page of 25 tickets has about 900 values: that was a third of a
list request. ``FastDump`` plans, once per schema instance, what each output
key reads and how it is formatted, and for plain objects (what the API dumps
item by item) compiles the plan into one Python function: one ``getattr`` per
field, values that a field would return unchanged (a ``str`` for a
``String``, an ``int`` for an ``Integer``, None for most fields) kept as they
are, everything else handed to the field's own ``_serialize``. So every value
is formatted by marshmallow exactly as before; only the walking is shorter.
The schemas stay the contract (the OpenAPI document is generated from them,
and tests compare this dump with marshmallow's own on every kind of ticket).
"""
from __future__ import annotations

from datetime import datetime

import marshmallow as ma
from marshmallow import fields, missing
from marshmallow.utils import get_value

# Field classes (exactly these) whose _serialize returns None for None.
_NONE_AS_NONE = frozenset((fields.String, fields.Integer, fields.Boolean, fields.DateTime, fields.AwareDateTime,
                           fields.NaiveDateTime, fields.Nested, fields.List, fields.Dict, fields.Raw))


class FastDump(ma.Schema):
    """An output schema whose ``dump`` reads and formats values directly (see
    the module). Dicts and anything indexable other than a tuple go through
    a generic loop with the same rules; a schema that overrides
    ``get_attribute`` through marshmallow's own path."""

    def _dump_plan(self) -> list[tuple]:
        # (output key, field name, attribute, field, reads a value?, plain
        # attribute?, type returned as it is, None returned as it is) per
        # dumped field; built on first use, after ``only`` and ``exclude``
        # have settled dump_fields.
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

    def _dump_object(self):
        dump = self.__dict__.get("_kefu_dump_object")
        if dump is None:
            dump = self._kefu_dump_object = _compile(self._dump_plan())
        return dump

    def _serialize(self, obj, *, many: bool = False):
        if many and obj is not None:
            return [self._serialize(item) for item in obj]
        if type(self).get_attribute is not ma.Schema.get_attribute:
            return super()._serialize(obj, many=False)
        # marshmallow reads a key of a plain object, or of a tuple (whose
        # indexing by a name fails), with getattr.
        if not hasattr(obj, "__getitem__") or isinstance(obj, tuple):
            return self._dump_object()(obj)
        return self._dump_generic(obj)

    def _dump_generic(self, obj) -> dict:
        mapping = isinstance(obj, dict)
        out = {}
        for key, name, attribute, field, reads, simple, unchanged, keeps_none in self._dump_plan():
            if reads:
                if mapping and simple:
                    # A missing key is read as an attribute (of the dict), as marshmallow does.
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
                    out[key] = value
                    continue
            else:
                value = None
            result = field._serialize(value, name, obj)
            if result is not missing:
                out[key] = result
        return out


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


def _iso_datetime(field) -> bool:
    """Whether ``field`` (exactly a DateTime class) formats a datetime with
    ``datetime.isoformat``."""
    return (type(field) in (fields.DateTime, fields.AwareDateTime, fields.NaiveDateTime)
            and field.SERIALIZATION_FUNCS.get(field.format or field.DEFAULT_FORMAT) is datetime.isoformat)


def _compile(plan: list[tuple]):
    """``dump(obj) -> dict`` for plain objects, following ``plan`` field by
    field with the rules of ``FastDump._dump_generic`` unrolled: each field's
    read, default, shortcut and ``_serialize`` as straight-line code."""
    env = {"missing": missing, "get_value": get_value, "datetime": datetime}
    lines = ["def dump(obj):", "    out = {}"]
    for i, (key, name, attribute, field, reads, simple, unchanged, keeps_none) in enumerate(plan):
        env[f"f{i}"] = field
        if not reads:
            if type(field) is fields.Method and field._serialize_method is not None:
                env[f"m{i}"] = field._serialize_method  # what Method._serialize calls
                lines.append(f"    v = m{i}(obj)")
            else:
                lines.append(f"    v = f{i}._serialize(None, {name!r}, obj)")
            lines += ["    if v is not missing:", f"        out[{key!r}] = v"]
            continue
        read = f"getattr(obj, {attribute!r}, missing)" if simple else f"get_value(obj, {attribute!r}, missing)"
        lines.append(f"    v = {read}")
        if field.dump_default is not missing:
            env[f"d{i}"] = field.dump_default
            lines.append(f"    if v is missing: v = d{i}() if callable(d{i}) else d{i}")
        lines.append("    if v is not missing:")
        kept = ([f"type(v) is t{i}"] if unchanged is not None else []) + (["v is None"] if keeps_none else [])
        if unchanged is not None:
            env[f"t{i}"] = unchanged
        indent = "        "
        if kept:
            lines += [f"        if {' or '.join(kept)}:", f"            out[{key!r}] = v"]
            if _iso_datetime(field):
                # What DateTime._serialize does for its "iso" format, without the lookups.
                lines += ["        elif type(v) is datetime:", f"            out[{key!r}] = v.isoformat()"]
            lines.append("        else:")
            indent = "            "
        lines += [f"{indent}r = f{i}._serialize(v, {name!r}, obj)",
                  f"{indent}if r is not missing:", f"{indent}    out[{key!r}] = r"]
    lines.append("    return out")
    exec(compile("\n".join(lines), "<kefu FastDump>", "exec"), env)  # noqa: S102 - code built from field names
    return env["dump"]

"""Dumping output schemas with less machinery: the same fields, the same output.

marshmallow's ``Schema._serialize`` fetches every field's value through four
layers (``Field.serialize`` -> ``Field.get_value`` -> ``Schema.get_attribute``
-> ``utils.get_value``/``_get_value_for_key``) and formats it through two
more, and a page of 25 tickets has about 900 values: that was a third of a
list request. ``FastDump`` plans, once per schema instance, what each output
key reads and how it is formatted, and compiles the plan into one Python
function per kind of object dumped (plain objects, dicts, anything else):
one read per field (a ``getattr`` for a plain object), values that a field
would return unchanged (a ``str`` for a ``String``, an ``int`` for an
``Integer``, None for most fields) kept as they are, everything else handed
to the field's own ``_serialize``. So every value
is formatted by marshmallow exactly as before; only the walking is shorter.
The schemas stay the contract (the OpenAPI document is generated from them,
and tests compare this dump with marshmallow's own on every kind of ticket).
"""
from __future__ import annotations

from datetime import datetime

import marshmallow as ma
from marshmallow import fields, missing
from marshmallow.decorators import POST_DUMP, PRE_DUMP
from marshmallow.utils import get_value

# Field classes (exactly these) whose _serialize returns None for None.
_NONE_AS_NONE = frozenset((fields.String, fields.Integer, fields.Boolean, fields.DateTime, fields.AwareDateTime,
                           fields.NaiveDateTime, fields.Nested, fields.List, fields.Dict, fields.Raw))


class FastDump(ma.Schema):
    """An output schema whose ``dump`` reads and formats values directly (see
    the module); a schema that overrides ``get_attribute`` dumps through
    marshmallow's own path."""

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

    def _dumper(self, reader: str):
        # One compiled function per way of reading values (see _compile).
        dumpers = self.__dict__.setdefault("_kefu_dumpers", {})
        dump = dumpers.get(reader)
        if dump is None:
            dump = dumpers[reader] = _compile(self._dump_plan(), reader)
        return dump

    def _serialize(self, obj, *, many: bool = False):
        if many and obj is not None:
            return [self._serialize(item) for item in obj]
        if type(self).get_attribute is not ma.Schema.get_attribute:
            return super()._serialize(obj, many=False)
        # marshmallow reads a key of a plain object, or of a tuple (whose
        # indexing by a name fails), with getattr; of a dict by key, then
        # (a missing key) as an attribute; of anything else with get_value.
        if not hasattr(obj, "__getitem__") or isinstance(obj, tuple):
            return self._dumper("object")(obj)
        return self._dumper("mapping" if isinstance(obj, dict) else "generic")(obj)


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


def _nested_fast(field) -> FastDump | None:
    """The FastDump schema whose ``_serialize`` gives what ``field`` dumps
    for a value other than None, if ``field`` is exactly a ``Nested`` of one
    object or exactly a ``List`` of such a ``Nested`` (a list or tuple value):
    that schema has no pre- or post-dump hooks and dumps one object at a
    time, so ``Nested._serialize``'s ``schema.dump`` would only call it."""
    inner = field.inner if type(field) is fields.List else field
    if type(inner) is not fields.Nested or inner.many:
        return None
    schema = inner.schema
    if not isinstance(schema, FastDump) or schema.many or schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP]:
        return None
    return schema


def _iso_datetime(field) -> bool:
    """Whether ``field`` (exactly a DateTime class) formats a datetime with
    ``datetime.isoformat``."""
    return (type(field) in (fields.DateTime, fields.AwareDateTime, fields.NaiveDateTime)
            and field.SERIALIZATION_FUNCS.get(field.format or field.DEFAULT_FORMAT) is datetime.isoformat)


# How a value is read, per kind of object, for an attribute without a dot
# (a dotted one is always read with marshmallow's get_value).
_READS = {
    "object": ["    v = getattr(obj, {a!r}, missing)"],
    "mapping": ["    v = obj.get({a!r}, missing)", "    if v is missing: v = getattr(obj, {a!r}, missing)"],
    "generic": ["    v = get_value(obj, {a!r}, missing)"],
}


def _compile(plan: list[tuple], reader: str):
    """``dump(obj) -> dict`` following ``plan`` field by field, reading values
    the ``reader`` way (``_READS``): each field's read, default, shortcut
    and ``_serialize`` as straight-line code, with marshmallow's rules (a
    missing value takes the field's ``dump_default`` or is left out, and so
    is a ``_serialize`` answer of ``missing``)."""
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
        lines += [line.format(a=attribute) for line in _READS[reader if simple else "generic"]]
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
        nested = _nested_fast(field)
        if nested is not None:
            # A Nested (or a List of Nested) FastDump: its rows dumped by its
            # own _serialize, as Nested would through Schema.dump, minus the layers.
            env[f"s{i}"] = nested._serialize
            direct = (f"[None if x is None else s{i}(x) for x in v]" if type(field) is fields.List
                      else f"s{i}(v)")
            lines.append(f"{indent}out[{key!r}] = {direct}")
            continue
        lines += [f"{indent}r = f{i}._serialize(v, {name!r}, obj)",
                  f"{indent}if r is not missing:", f"{indent}    out[{key!r}] = r"]
    lines.append("    return out")
    exec(compile("\n".join(lines), "<kefu FastDump>", "exec"), env)  # noqa: S102 - code built from field names
    return env["dump"]

"""``kefu plugin new``: an installable plugin package from the template tree
next to this module, rendered with Jinja.

The tree's ``*.jinja`` files are rendered with the plugin's names; a path
part ``__package__`` becomes the package (``kefu_<name>``), ``__name__`` in
a file name the plugin's name; a file that renders empty is left out (the
table files without ``--with-table``). Everything is rendered into a
temporary folder first and moved into place at the end, so a refused or
failed generation writes nothing.
"""
from __future__ import annotations

import keyword
import re
import shutil
import tempfile
from dataclasses import dataclass
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

TEMPLATE = Path(__file__).parent / "template"
NAME_RULE = re.compile(r"[a-z][a-z0-9_]{1,29}")


class ScaffoldError(ValueError):
    """The plugin cannot be generated; the message says why, for the person who asked."""


@dataclass(frozen=True)
class Names:
    """The names one plugin goes by."""

    name: str  # the plugin (entry point) name, e.g. acme_guard
    package: str  # its import package, e.g. kefu_acme_guard
    dist: str  # its distribution, e.g. kefu-acme-guard
    prefix: str  # its settings' prefix, e.g. ACME_GUARD


def names_for(name: str) -> Names:
    """The names of plugin ``name``; ``ScaffoldError`` when ``name`` is not a
    lowercase identifier of 2 to 30 characters, or is taken."""
    if not NAME_RULE.fullmatch(name or "") or keyword.iskeyword(name) or "__" in name or name.endswith("_"):
        raise ScaffoldError(f"{name!r} is not a plugin name: use a lowercase Python identifier of 2 to 30 "
                            "characters (a-z, digits, single underscores; starting with a letter), "
                            "e.g. acme_guard")
    installed = {ep.name: ep for ep in metadata.entry_points(group="kefu")}
    if name in installed or name == "core":
        where = installed[name].value if name in installed else "kefu itself"
        raise ScaffoldError(f"the plugin name {name!r} is taken by an installed plugin ({where}); choose another")
    names = Names(name, f"kefu_{name}", f"kefu-{name.replace('_', '-')}", name.upper())
    if find_spec(names.package) is not None:
        raise ScaffoldError(f"a module named {names.package} is already installed; choose another plugin name")
    return names


def _target_path(relative: Path, names: Names) -> Path:
    parts = [names.package if part == "__package__" else part.replace("__name__", names.name)
             for part in relative.parts]
    path = Path(*parts)
    return path.with_name(path.name.removesuffix(".jinja"))


def new_plugin(name: str, where: Path, with_table: bool = False) -> Path:
    """Write plugin ``name``'s package into ``where / name``; return that
    folder. ``ScaffoldError`` (nothing written) for a bad or taken name or a
    folder that exists."""
    from jinja2 import Environment, StrictUndefined

    names = names_for(name)
    where = Path(where)
    target = where / name
    if target.exists():
        raise ScaffoldError(f"{target} already exists; choose another name or --dir")
    if not where.is_dir():
        raise ScaffoldError(f"{where} is not a folder")
    try:
        kefu_version = metadata.version("kefu")
    except metadata.PackageNotFoundError:  # run from a checkout that is not installed
        kefu_version = "0.1"
    env = Environment(keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, undefined=StrictUndefined,
                      autoescape=False)
    context = {**names.__dict__, "with_table": with_table, "kefu_version": kefu_version, "directory": name}
    with tempfile.TemporaryDirectory(dir=where, prefix=f".{name}-") as scratch:
        built = Path(scratch) / name
        for source in sorted(TEMPLATE.rglob("*.jinja")):
            text = env.from_string(source.read_text(encoding="utf-8")).render(context)
            if not text.strip():
                continue  # a part this plugin does not have (e.g. its table)
            path = built / _target_path(source.relative_to(TEMPLATE), names)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        shutil.move(str(built), str(target))
    return target

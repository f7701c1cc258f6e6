"""A non-editable install carries the pages: every template, static file and
compiled catalog under service/ matches a package_data pattern in setup.cfg."""
from __future__ import annotations

import configparser
import fnmatch

from testdb import ROOT


def test_package_data_covers_templates_static_files_and_catalogs():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    patterns = [p.strip() for p in config["options.package_data"]["service"].split(",")]
    service = ROOT / "service"
    files = [p for folder in ("templates", "static", "translations") for p in (service / folder).rglob("*")
             if p.is_file() and "__pycache__" not in p.parts]
    assert any(p.suffix == ".mo" for p in files) and any(p.suffix == ".css" for p in files)
    # setuptools globs do not cross "/" with "*", as fnmatch would: compare part counts too.
    missing = [str(p.relative_to(service)) for p in files
               if not any(fnmatch.fnmatch(str(p.relative_to(service)), pat)
                          and pat.count("/") == str(p.relative_to(service)).count("/") for pat in patterns)]
    assert missing == []

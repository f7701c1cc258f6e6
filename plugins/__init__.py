"""kefu's builtin plugins, each written only through the public hooks.

Builtin plugins ship with the core, so their tables are in kefu's own
migrations; ``import_models`` lets Alembic (and the schema tests) see those
tables whether or not the plugin is enabled.
"""
from __future__ import annotations

import importlib

MODEL_MODULES = ("plugins.webhooks.models", "plugins.tier_sla.models", "plugins.satisfaction_survey.models",
                 "plugins.credit_check.models")


def import_models() -> None:
    """Import every builtin plugin's models module (registers their tables)."""
    for name in MODEL_MODULES:
        importlib.import_module(name)

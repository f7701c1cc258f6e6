"""kefu's core defaults live in ``service/default_settings.py`` (shipped
inside the package, so an installed kefu finds them); each plugin declares
its own (``kefu plugins --check`` lists them with their current values).

This file only points there. To change a setting, name a file of your own
with ``KEFU_SETTINGS`` (see ``config/production.py``) or set ``KEFU_<KEY>``.
"""
from service.default_settings import *  # noqa: F401,F403  (for tools that read config/default.py)

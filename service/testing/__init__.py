"""Testing kefu and kefu plugins: the pytest plugin (``service.testing.plugin``,
loaded by pytest through the ``pytest11`` entry point, never by the app) and
the helpers behind its fixtures.

``pip install 'kefu[testing]'`` brings what the fixtures need besides kefu
(pytest, and time-machine for ``kefu_clock``). See docs/plugins.md,
"Testing your plugin".
"""
from service.testing.database import DATABASE_VARIABLE, PASSWORD, TEST_SETTINGS, Reference, built_app
from service.testing.people import csrf_of

__all__ = ["DATABASE_VARIABLE", "PASSWORD", "TEST_SETTINGS", "Reference", "built_app", "csrf_of"]

from careparts import hook_receiver  # noqa: F401  (a fixture)

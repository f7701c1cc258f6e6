"""The hook contract: the core's specs, the plugin manager, the core's default answers."""

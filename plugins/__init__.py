"""kefu's builtin plugins, each written only through ``service`` and ``service.sdk``."""

"""Background jobs: declarations (``registry``), the outbox relay
(``outbox``), running one job (``run``), effects once (``effects``), workers
and the periodic ticker (``runner``), admin views (``admin``), ``kefu worker``
and ``kefu jobs`` (``cli``)."""

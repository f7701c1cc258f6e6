"""Background jobs: declarations (``registry``), the outbox relay
(``outbox``), making the outbox and RQ agree again (``reconcile``), periodic
runs claimed in the database (``periodic``), running one job (``run``),
effects once (``effects``), workers and the ticker (``runner``), admin views
(``admin``), ``kefu worker`` and ``kefu jobs`` (``cli``)."""

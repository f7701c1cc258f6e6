"""E-mail: notices out (``notices``, ``compose``, ``send``) and mail in
(``inbound``, ``server`` for SMTP, ``imap`` for polling a mailbox)."""

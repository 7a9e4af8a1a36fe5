"""The review: two syntheses read back (``assembly``), compared (``diff``), rendered (``render``); ``cli`` runs it."""

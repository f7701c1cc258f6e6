"""Use cases: each public function is one transaction through the unit of work."""

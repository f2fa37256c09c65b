"""Use cases, one module per noun the user knows: they combine the pure core with the store
and return results and typed hints, never command-line words."""

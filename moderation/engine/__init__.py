"""The read-only engine: what the active model scores and where the rules send a comment.

Views, services, selectors and tasks all call it; it writes nothing. `scoring` holds the
active model (and other loaded versions), `config` the routing configuration, both cached per
process; `rules` is the pure rule engine; `analysis` puts them together.
"""

"""`harness init`: a starter slas.yaml for a stack the harness has never seen, from its compose files.

``survey`` reads what the compose files say (roles, tiers, endpoints, the dependency graph), ``budgets``
writes the static lint's sections, ``starter`` writes the catalogue; every guessed value carries a comment
saying what it was inferred from.
"""

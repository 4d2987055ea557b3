"""The rewards domain: members, the points ledger, activities and their rules.

Nothing here knows of GraphQL, HTTP, Redis or settings: callers pass what a
rule needs (clock, pending period) explicitly.
"""

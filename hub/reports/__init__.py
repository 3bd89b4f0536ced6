"""Reports for chain directors and coaches: waiting times, bottlenecks, uniform registration.

Pseudonymous by construction: every number is an aggregate computed in SQL; no client id or alias
ever leaves this package.
"""

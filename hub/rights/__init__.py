"""The client's rights: who read my data (the read log), a copy of everything (the access request),
forgetting on time (retention) and on request (erasure), and the legal hold that stops both.

A package of its own rather than part of `hub/referrals`: it reads across every capability that
holds client data (referrals, consent, audit) and owns its own table, routes, pages and job.
"""

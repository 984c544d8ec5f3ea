"""The agent: a provider-neutral loop (``appctl run`` / ``appctl chat``) over the executor.

``conversation`` holds the neutral messages, ``providers`` one adapter per LLM API (each
speaking its SDK's own wire shapes), ``session.catalog`` the meta-tools for APIs too large to hand a
model whole, ``loop`` the turn loop with its gates, budgets and trace.
"""

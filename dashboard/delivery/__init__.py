"""Figures that come to the reader (issue 23): what is due when (due), each message built
as its reader, with that user's scope (messages), the mail server (smtp), and the runner
that claims, sends and retries each message exactly once (runner); threshold alerts,
evaluated at the start of `deliver` (alerts).

May import core, store, metrics, queries, engine, charts and review; never ui, pages or
cli (the command line imports it).
"""

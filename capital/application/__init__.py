"""The application layer: every use case the product offers (publish, log, import, accounts
and tokens, subscribers, acknowledge, sweep, retry, reports), called by every entry point.

The command line, the HTTP API and the workers only translate their input into a call here
and render the result. A use case takes the signed-in `Principal` and the container's
ports, checks permission itself, and returns values, never database rows.
"""

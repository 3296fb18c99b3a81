"""`jamsos serve`: the ledger's second front door, over HTTP, beside the command line.

The same core as the CLI: every request opens nothing of its own but asks the one `Ledger`
of the store (the composition root) and renders what the application service and the views
answer; no rule or report is computed here. Nothing is imported here, so that the CLI's
`tokens` commands do not pay for FastAPI: `jamsos_ledger.web.app.create_app` builds the app.
"""

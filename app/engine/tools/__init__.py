"""Function calling (Qt-free): the InternLM2 plugin calls a reply makes, and the app's built-in tools.

`calls` finds and parses a call (shared by the window and the local server), `registry`
describes the built-in tools for the `<|plugin|>` system turn and runs one call, and
`calculator`, `clock`, `doc_search` are the tools themselves. docs/security.md ("Tools") says
why each is safe and why the code interpreter is left out.
"""

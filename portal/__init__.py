"""The support portal's system of record: rules, persistence and use cases.

Nothing here imports Slack, Rasa or aiohttp code; every surface talks to this package through
`portal.services` (async use cases) and the value objects in `portal.views`.
"""

"""The Slack harness that tests and benchmarks share: a fake Web API, signed requests, payloads, journeys, outages."""

"""End-to-end test harness for the Slack app: a fake Web API, Slack's request signing, and payload builders."""

"""Who is who in Slack: the identity resolver, the people who may be told about an account, and the support agents."""

"""Operations: Prometheus metrics (`metrics`), liveness and readiness (`health`), served by `serve`.

A low layer: it imports the portal and libraries only, so the engine and the Slack layer can both report to it.
"""

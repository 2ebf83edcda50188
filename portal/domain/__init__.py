"""Entities, value objects and rules of the support portal: plain Python, no framework imports."""

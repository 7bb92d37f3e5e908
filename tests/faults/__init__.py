"""Fault injection with real processes: the service, a TCP proxy and a dedicated PostgreSQL."""

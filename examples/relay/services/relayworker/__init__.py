"""A worker of the relay example stack: one JSON route that calls one Redis dependency through the fault
proxy, guarded by the `circuitbreaker` library, with a fallback, timeouts and Prometheus metrics."""

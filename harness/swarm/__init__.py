"""The Swarm driver: the same compose files deployed with ``docker stack deploy`` on a single-node Swarm.

``mode``: initialise a Swarm when none exists and leave it as found (journalled, so a crash is undone);
``stackfile``: the compose model rewritten as a stack file Swarm accepts, loopback ports set apart;
``bridge``: those ports published on 127.0.0.1 only, by plain containers on the stack's networks;
``stack``: ``SwarmStack``, the ``harness.stack.Stack`` interface over all of it.
"""

"""Plain-Python cores of the busiest screens: what the queue and the reply *do*, as state
machines that take events and return commands, with no Textual, no pymongo and no store import
(an import-linter contract keeps it so). They talk to the store through narrow Protocols of
their own; screens are adapters around them (bindings, rendering, ``@work`` bridges)."""

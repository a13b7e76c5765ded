"""The peers of the hour accounting engine (issue 16): the same per-student job written for Quix Streams
and for faust-streaming, each the way its own documentation recommends. Bench-only: the product does not
depend on either framework (docs/adr/0080-peers-bench-only.md)."""

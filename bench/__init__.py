"""Benchmarks of sou against the classic Whoosh + jieba recipe; run as ``python -m bench.<name>``.

A package (not loose scripts) so the runners share `bench.common` and `bench.classic` by a
plain import, whatever the working directory.
"""

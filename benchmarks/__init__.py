"""followupd's benchmarks (SPEC §6): idle poll cost, first sync, memory, scaling, latency.

``python -m benchmarks`` runs them all and prints one table; each module also
runs alone (``python -m benchmarks.idle``).  They are not part of the test run
and nothing asserts a time: ``tests/test_benchmarks_smoke.py`` only checks that
the harness still works, at tiny sizes.
"""

"""The kit inside your own test suite: a pytest plugin (``pytest11`` entry point ``kit``).

Off unless asked. Installing the kit registers the plugin; it adds options, markers and
fixtures and does nothing else until one of these is used:

    pytest --kit-stalls[=MS]        # every async test runs under the loop monitor; a stall
                                    # over MS (default 100) in your code or the SDK fails it
    pytest --kit-stalls-warn        # the same, reported in the summary without failing
    pytest --kit-capture            # Supabase traffic of every client (yours too) recorded;
                                    # a failing test shows it, flagged and explained
    @pytest.mark.kit_stalls(ms=50)  # one test (or module, via pytestmark) without the option
    @pytest.mark.kit_capture        # likewise for the capture

Fixtures: ``kit_stack`` (session; the project's nearest ``.kit/stack``, started there if
needed, ``--kit-stack-dir DIR`` or ``--kit-private-stack``; shared by xdist workers;
``--kit-migrations PATH`` applied to it), ``kit_target``, ``kit_clients``, ``kit_faults``,
``kit_db``, ``kit_user`` (a user signed in through Auth). Every test that uses any of them
but ``kit_stack`` has its REST writes undone afterwards (``kit.pytest.rollback``, which
removes its triggers and schema when the run ends). ``-p no:kit`` switches the plugin off
entirely.

Modules: ``plugin`` (the hooks), ``options`` (what is asked, per test), ``stalls``
(watching a test's loop), ``traffic`` (recording Supabase traffic), ``sections`` (failure
texts), ``summary`` (the terminal summary), ``fixtures``, ``shared_stack``, ``rollback``,
``user``.
"""

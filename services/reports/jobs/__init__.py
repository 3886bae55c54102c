"""Work of the reports service beyond one request's reply: the unlock saga with the recovery
that finishes what a crash left (`unlocking`), and the reconciliation audit an operator runs
after an incident (`audit`)."""

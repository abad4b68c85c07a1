"""Load tests with Locust: paying users, SLO gates and the stack's invariants after the run."""

"""The billing service's routers, one per resource family (assembled in `api.py`)."""

"""The brand portfolio (issue 11): a read model of every (organisation, factory) relation,
fed by the event stream the service already takes in (`jobs/ingest.py` applies each stored
batch to it in the same transaction), served as JSON, CSV and a reference dashboard page.

- `models/portfolio.py`: the tables (the facts events carry, and the rows as each viewer
  reads them);
- `projection.py`: applying events to the facts and recomputing the rows they touch;
- `access.py`: which columns of a factory a viewer may read (rules as data);
- `query.py`: the reads; `api/portfolio.py` and `api/dashboard.py`: the routes;
  `cli.py`: the rebuild from scratch.
"""

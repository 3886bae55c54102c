"""The brand portfolio (issue 11): a read model of every (organisation, factory) relation,
fed by the event stream the service already takes in (ingest.py applies each stored batch
to it in the same transaction), served as JSON, CSV and a reference dashboard page.

- models.py: the tables (the facts events carry, and the rows as each viewer reads them);
- projection.py: applying events to the facts and recomputing the rows they touch;
- access.py: which columns of a factory a viewer may read (rules as data);
- query.py / summary.py: the reads; api.py: the routes; rebuild.py: from scratch.
"""

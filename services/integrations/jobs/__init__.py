"""Background work of the integrations service, in every replica: taking in the sources'
events (`ingest`), delivering them to webhook endpoints (`delivery`, with the `ssrf` guard
on where a delivery may go) and forgetting what is past its 30 days (`retention`)."""

"""The integrations service's pure rules: Standard Webhooks signatures (`signing`). Who
reads which portfolio column is decided as the portfolio's rows are written
(`store/portfolio/access.py`)."""

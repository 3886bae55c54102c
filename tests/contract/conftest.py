from tests.e2e.conftest import stack

__all__ = ["stack"]

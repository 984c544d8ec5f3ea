"""Database sync: reflect tables and views through SQLAlchemy, then build the contract."""

"""Calls to a database: the plan (columns, filters, values), the statement run under a
deadline in a read-only or writing transaction, paging by keyset or offset, errors mapped."""

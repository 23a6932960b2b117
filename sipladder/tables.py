"""Rows to pandas DataFrames: the only module that imports pandas.

Column types come from the declarations in :mod:`sipladder.rows`: times become
timezone-aware (UTC) datetimes, durations become timedeltas, counts nullable
integers, so that a missing value stays missing (``<NA>``/``NaT``), never zero.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from sipladder.rows import ColumnKind, Row, Table


def frame(table: Table, rows: Sequence[Row]) -> pd.DataFrame:
    data: dict[str, object] = {}
    for column in table.columns:
        values = [row.get(column.name) for row in rows]
        kind = column.kind
        if kind is ColumnKind.TIME:
            data[column.name] = pd.to_datetime(
                pd.array(values, dtype="Int64"), unit="ns", utc=True
            )
        elif kind in (ColumnKind.DURATION_MS, ColumnKind.DURATION_S):
            data[column.name] = pd.to_timedelta(pd.array(values, dtype="Int64"), unit="ns")
        elif kind is ColumnKind.INT:
            data[column.name] = pd.array(values, dtype="Int64")
        elif kind is ColumnKind.FLOAT:
            data[column.name] = pd.array(values, dtype="Float64")
        elif kind is ColumnKind.BOOL:
            data[column.name] = pd.array(values, dtype="boolean")
        elif kind is ColumnKind.STR:
            data[column.name] = pd.array(values, dtype="object")
        else:
            data[column.name] = pd.Series(values, dtype="object")
    return pd.DataFrame(data, columns=table.names)

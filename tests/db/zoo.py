"""The type zoo: one table per dialect with every column type that dialect can create here,
rows of edge values written with the database's own SQL (``RAW``: every type, including the
ones appctl reads only), and rows written through ``create`` (``WRITES``), each value in the
form the executor returns it, so a round trip gives back exactly what was written."""

from __future__ import annotations

from typing import Any

DDL: dict[str, list[str]] = {
    "sqlite": [
        """CREATE TABLE zoo (
            id INTEGER PRIMARY KEY, i INT, ti TINYINT, si SMALLINT, bi BIGINT, u8 UNSIGNED BIG INT,
            r REAL, dbl DOUBLE, t TEXT, vc VARCHAR(5), nvc NVARCHAR(10), cl CLOB, bl BLOB,
            bo BOOLEAN, d DATE, dt DATETIME, tm TIME, j JSON, nt
        )"""
    ],
    "postgresql": [
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
        "CREATE DOMAIN posint AS integer CHECK (VALUE > 0)",
        "CREATE TYPE pair AS (a int, b text)",
        """CREATE TABLE zoo (
            id serial PRIMARY KEY, i2 smallint, i4 integer, i8 bigint, o oid, num2 numeric(10,2),
            mon money, t text, vc varchar(5), ch char(3), ch1 "char", nm name, by bytea,
            b boolean, d date, tm time, tmtz timetz, ts timestamp, tstz timestamptz,
            iv interval, u uuid, j json, jb jsonb, x xml, pt point, ln line, ls lseg, bx box,
            pa path, pg polygon, ci circle, ine inet, ci2 cidr, mac macaddr, mac8 macaddr8,
            bt bit(3), vb varbit, tsv tsvector, tsq tsquery, r_i4 int4range, r_i8 int8range,
            r_num numrange, r_ts tsrange, r_tstz tstzrange, r_d daterange, mr int4multirange,
            lsn pg_lsn, a1 int[], a2 int[][], a3 int[][][], ta text[], e mood, dom posint,
            comp pair, ba bytea[], ja jsonb[], ua uuid[], da date[], ina inet[], xa xml[],
            f8 double precision, ea mood[]
        )""",
    ],
    "mariadb": [
        """CREATE TABLE zoo (
            id int AUTO_INCREMENT PRIMARY KEY, ti tinyint, tiu tinyint unsigned, si smallint,
            siu smallint unsigned, mi mediumint, miu mediumint unsigned, i int, iu int unsigned,
            bi bigint, biu bigint unsigned, bo boolean, b1 bit(1), b8 bit(8), b64 bit(64),
            de decimal(10,2), fl float, db double, ch char(3), vc varchar(5), tt tinytext,
            t text, mt mediumtext, lt longtext, bn binary(4), vb varbinary(8), bl blob,
            lb longblob, d date, tm time, dt datetime, dt6 datetime(6), tsp timestamp NULL,
            y year, e enum('a','b c',''), s set('r','w','x'), j json, u uuid, i4 inet4,
            i6 inet6, g geometry, p point
        )"""
    ],
}

I64 = (-(2**63), 2**63 - 1)

RAW: dict[str, list[str]] = {
    "sqlite": [
        f"INSERT INTO zoo (i, ti, si, bi, u8, r, dbl, t, vc, nvc, cl, bl, bo, d, dt, tm, j, nt) "
        f"VALUES ({I64[0]}, 70000, {I64[1]}, {I64[1]}, {I64[1]}, -1.5e300, 5e-324, 'ünï ✓', "
        "'abcde', 'x', 'clob', x'00ff', 1, '2024-02-29', '2024-02-29 13:45:30.123456', "
        "'23:59:59.999999', '{\"a\": [1, null, \"x\"]}', 42)",
        "INSERT INTO zoo (bo, j, nt) VALUES (0, '[]', 'text')",
        "INSERT INTO zoo (nt) VALUES (2.5)",
        "INSERT INTO zoo (nt) VALUES (x'01')",
        "INSERT INTO zoo (id) VALUES (9223372036854775807)",
        # values of h-values' part: infinity, JSON null, values that misfit their column
        "INSERT INTO zoo (r, j) VALUES (9e999, 'null')",
        "INSERT INTO zoo (i, d, bo) VALUES ('not a number', 'not a date', 'maybe')",
    ],
    "postgresql": [
        """INSERT INTO zoo (i2, i4, i8, o, num2, mon, t, vc, ch, ch1, nm, by, b, d, tm, tmtz, ts,
            tstz, iv, u, j, jb, x, pt, ln, ls, bx, pa, pg, ci, ine, ci2, mac, mac8, bt, vb, tsv,
            tsq, r_i4, r_i8, r_num, r_ts, r_tstz, r_d, mr, lsn, a1, a2, a3, ta, e, dom, comp, ba,
            ja, ua, da, ina, xa)
        VALUES (-32768, 2147483647, -9223372036854775808, 4294967295, -99999999.99,
            '-92233720368547758.08', 'ünï ✓', 'abcde', 'ab', 'c', 'nm', '\\x00ff', true,
            '0001-01-01', '23:59:59.999999', '13:45:30+14', '9999-12-31 23:59:59.999999',
            '2024-02-29 13:45:30+00', '-1 days +02:03:04.5', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
            '{"a": 1}', '[1, null, "x"]', '<a>x</a>text', '(1.5,-2)', '{1,2,3}',
            '[(0,0),(1,1)]', '((0,0),(1,1))', '[(0,0),(1,1)]', '((0,0),(1,1),(1,0))',
            '<(0,0),1>', '::1', '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05',
            B'000', B'', 'a fat cat', 'fat & cat', 'empty', '[,5)', '(,)',
            '[2024-01-01,2024-02-01)', '[2024-01-01 00:00+00,)', '[2024-01-01,2024-02-01)',
            '{[1,3),[5,7)}', '16/B374D848', '{}', '{{1,2},{3,NULL}}', '{{{1}},{{2}}}',
            '{"a",NULL,"b c"}', 'happy', 2147483647, '(1,"x y")', '{"\\\\x00",NULL}',
            ARRAY['{"a": 1}'::jsonb, 'null'::jsonb], '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}',
            '{2024-01-01,NULL}', '{192.168.0.1/24,::1}', ARRAY['<a/>'::xml])""",
        "INSERT INTO zoo (i8, o, a2) VALUES (9223372036854775807, 0, '{}')",
        # values of h-values' part: NaN/Infinity, enum arrays, JSON null
        "INSERT INTO zoo (f8, ea, jb) VALUES ('NaN', '{sad,happy}', 'null')",
        "INSERT INTO zoo (f8, ea) VALUES ('-Infinity', '{}')",
        # h-edges' part: NUMERIC NaN, infinite dates and timestamps, time 24:00:00
        "INSERT INTO zoo (num2, d, ts, tstz, tm, tmtz) "
        "VALUES ('NaN', 'infinity', '-infinity', 'infinity', '24:00:00', '24:00:00+00')",
    ],
    "mariadb": [
        """INSERT INTO zoo (ti, tiu, si, siu, mi, miu, i, iu, bi, biu, bo, b1, b8, b64, de, fl, db,
            ch, vc, tt, t, mt, lt, bn, vb, bl, lb, d, tm, dt, dt6, tsp, y, e, s, j, u, i4, i6, g, p)
        VALUES (-128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295,
            -9223372036854775808, 18446744073709551615, 1, b'1', b'11111111',
            b'1111111111111111111111111111111111111111111111111111111111111111', -99999999.99,
            1.5, -2.5e300, 'ab', 'abcde', 'tt', 'ünï ✓', 'mt', 'lt', 'abcd', '', x'00ff', '',
            '1000-01-01', '13:45:30', '9999-12-31 23:59:59', '2024-02-29 13:45:30.123456',
            '2038-01-19 03:14:07', 2155, '', 'r,w,x', '{"a": [1, null, "x"]}',
            'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '10.0.0.1', '::1',
            ST_GeomFromText('POINT(1 2)'), ST_GeomFromText('POINT(1 2)'))""",
        "INSERT INTO zoo (ti, bi, biu, b64, y, s, j) "
        "VALUES (127, 9223372036854775807, 0, 0, 0, '', '[]')",
        "INSERT INTO zoo (y, s, j) VALUES (1901, 'w', '\"text\"')",
        "INSERT INTO zoo (j) VALUES ('null')",  # JSON null (h-values' part)
        "INSERT INTO zoo (tm) VALUES ('-838:59:59')",  # TIME past a day (h-edges' part)
    ],
}

WRITES: dict[str, list[dict[str, Any]]] = {
    "sqlite": [
        {
            "i": I64[1],
            "si": I64[0],
            "bi": I64[0],
            "r": 0.5,
            "t": "ünï ✓\n'quoted'",
            "vc": "abcde",
            "bl": "AP8=",
            "bo": True,
            "d": "2024-02-29",
            "dt": "2024-02-29T13:45:30.123456",
            "tm": "23:59:59.999999",
            "j": {"a": [1, None, "x"]},
            "nt": "any text",
        },
        {"nt": 7, "j": [1, 2], "bo": False},
    ],
    "postgresql": [
        {
            "i2": 32767,
            "i4": -2147483648,
            "i8": 9223372036854775807,
            "o": 4294967295,
            "num2": "99999999.99",
            "mon": "$1,234.56",
            "t": "ünï ✓",
            "vc": "abcde",
            "ch": "abc",
            "by": "AP8=",
            "b": False,
            "d": "9999-12-31",
            "tm": "00:00:00",
            "tmtz": "13:45:30-03:00",
            "ts": "2024-02-29T13:45:30.123456",
            "tstz": "2024-02-29T13:45:30+00:00",
            "iv": "P1DT2H3M4.5S",
            "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "j": {"a": [1, None]},
            "jb": [1, "x", {"b": True}],
            "x": "<a>x</a>",
            "pt": "(1.5,-2)",
            "bx": "(1,1),(0,0)",
            "ci": "<(0,0),1>",
            "ine": "192.168.0.1/24",
            "ci2": "10.0.0.0/8",
            "mac": "08:00:2b:01:02:03",
            "bt": "101",
            "vb": "1",
            "tsv": "'a' 'cat' 'fat'",
            "tsq": "'fat' & 'cat'",
            "r_i4": "[1,5)",
            "r_num": "[1.5,2.5]",
            "r_tstz": '["2024-01-01 00:00:00+00",)',
            "r_d": "[2024-01-01,2024-02-01)",
            "mr": "{[1,3),[5,7)}",
            "lsn": "16/B374D848",
            "a1": [1, None, 3],
            "a2": [[1, 2], [3, 4]],
            "a3": [[[1, 2]], [[3, 4]]],
            "ta": ["a", "b c", None],
            "e": "sad",
            "dom": 1,
            "comp": '(1,"x y")',
            "ua": ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"],
            "da": ["2024-01-01", None],
            "xa": "{<a/>}",
        },
        {"a2": [], "i8": -9223372036854775808, "r_i8": "empty", "ea": ["ok", "sad"]},
        {"f8": "Infinity", "ea": []},
        {"num2": "NaN", "d": "-infinity", "ts": "infinity", "tstz": "-infinity", "tm": "24:00:00"},
    ],
    "mariadb": [
        {
            "tiu": 255,
            "miu": 16777215,
            "iu": 4294967295,
            "bi": -9223372036854775808,
            "biu": 18446744073709551615,
            "bo": True,
            "b1": 1,
            "b8": 170,
            "b64": 18446744073709551615,
            "de": "-99999999.99",
            "vc": "abcde",
            "t": "ünï ✓",
            "bn": "AP8AAA==",
            "d": "2024-02-29",
            "tm": "13:45:30",
            "dt6": "2024-02-29T13:45:30.123456",
            "y": 2155,
            "e": "b c",
            "s": ["r", "x"],
            "j": {"a": [1, None, "x"]},
            "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "i4": "10.0.0.1",
            "i6": "::1",
        },
        {"y": 0, "s": [], "j": [1, "two"], "b64": 0},
        {"y": 1901, "s": ["w", "r"], "j": "text"},  # a SET reads back in the column's order
        {"tm": "838:59:59"},
        {"tm": "-01:30:00"},
    ],
}

# A SET written in another order reads back in the column's
READ_BACK: dict[str, dict[int, dict[str, Any]]] = {"mariadb": {2: {"s": ["r", "w"]}}}

# Columns of a type appctl does not know: the sync names each in a warning
UNKNOWN: dict[str, list[str]] = {
    "sqlite": [],
    "postgresql": ["zoo.comp: type pair"],
    "mariadb": ["zoo.g: type GEOMETRY", "zoo.p: type POINT"],
}

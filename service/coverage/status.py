"""A township's coverage status — what the coverage map colours and the OGC `coverage`
collection carries — with Chinese names. Precedence, highest first: two or more active
offices stand in it (conflict); an office registered to it stands elsewhere (misplaced); a
required township with no office standing in it (gap); else covered, or not required."""

from __future__ import annotations

STATUS_LABELS_ZH = {
    "covered": "已设司法所",
    "gap": "未设司法所(空白)",
    "conflict": "重复设所",
    "misplaced": "司法所位置不在本乡镇",
    "not_required": "非必设单位",
}

"""The operator cases of section 3.2 over the test dataset: (key, operator, value, the
job ids that match). Run by test_operators against both engines, and encoded as BSON
by test_bson."""

from __future__ import annotations

from tests.dataset import D1_JOB_IDS, J1, J2, J7, JABCD, JC6, JGONE, JOLD

AWS_JOBS = {J1, JABCD, JC6, J7}

CASES = [
    # eq: scalars, null (missing or null), exact objects, array elements
    ("status", "eq", "SUCCESS", {J1, J7}),
    ("status", "eq", "success", set()),
    ("project_id", "eq", None, D1_JOB_IDS - {J1}),
    ("filter", "eq", {"region": "us-east-1"}, {J1}),
    ("filters", "eq", {"region": "eu-west-1"}, set()),
    ("filter.region", "eq", "us-east-1", {J1}),
    ("filters", "eq", {"$ne": None}, {JC6}),
    ("projects", "eq", "project-b", {J2, JOLD}),
    ("errors.error_code", "eq", "ERROR_TIMEOUT", {JOLD}),
    # not
    ("status", "not", "SUCCESS", D1_JOB_IDS - {J1, J7}),
    ("filters", "not", {"$ne": None}, D1_JOB_IDS - {JC6}),
    # comparisons
    ("total_tasks", "lt", 3, {JOLD, JGONE, JC6}),
    ("total_tasks", "lte", 3, {JOLD, JGONE, JC6, JABCD}),
    ("total_tasks", "gt", 5, {J1, J7}),
    ("total_tasks", "gte", 5, {J1, J2, J7}),
    ("total_tasks", "gt", 100, set()),
    ("project_id", "lte", None, D1_JOB_IDS - {J1}),  # null sorts lowest: null and missing
    ("project_id", "lt", None, set()),
    # exists
    ("collector", "exists", True, {JOLD}),
    ("collector", "exists", False, D1_JOB_IDS - {JOLD}),
    # contain / not_contain: literal text, case-insensitive
    ("job_id", "contain", "ABCD", {JABCD}),
    ("job_id", "contain", ".", set()),
    ("job_id", "contain", "0+", set()),
    ("job_id", "not_contain", "000000000", {JABCD, JOLD, JGONE}),
    # in / not_in
    ("status", "in", ["ERROR", "TIMEOUT"], {J2, JOLD}),
    ("status", "in", [], set()),
    ("status", "not_in", ["SUCCESS", "CREATED"], D1_JOB_IDS - {J1, J7, JC6}),
    ("projects", "in", ["project-a"], {J1, J2}),
    ("projects", "in", [["project-b"], ["project-a"]], {J1, JOLD}),  # a list value: the whole array
    ("projects", "not_in", [["project-a", "project-b"]], D1_JOB_IDS - {J2}),
    # objects with `$`-keys are literal values, never operators (MongoDB refuses them in `$in`)
    ("filters", "in", [{"$ne": None}], {JC6}),
    ("filters", "in", ["x", {"$ne": None}, {"region": "us-east-1"}], {J1, JC6}),
    ("filters", "in", [{"$gt": ""}, {"$exists": True}], set()),
    ("filters", "in", [{"region": "us-east-1", "$ne": None}], set()),
    ("filters", "in", [[{"$ne": None}]], set()),
    ("filters", "not_in", [{"$ne": None}], D1_JOB_IDS - {JC6}),
    ("filters", "not_in", [{"$ne": None}, {"region": "us-east-1"}], D1_JOB_IDS - {J1, JC6}),
    ("filters", "not_in", [{"$exists": True}], D1_JOB_IDS),
    ("errors", "in", [{"$exists": True}], set()),
    ("project_id", "in", [None, {"$ne": None}], D1_JOB_IDS - {J1}),
    ("filters", "eq", {"$exists": True}, set()),
    ("filters", "not", {"$exists": True}, D1_JOB_IDS),
    # contain_in / not_contain_in
    ("job_id", "contain_in", ["OLD", "gone"], {JOLD, JGONE}),
    ("job_id", "contain_in", ["^job"], set()),
    ("job_id", "not_contain_in", ["old", "gone"], D1_JOB_IDS - {JOLD, JGONE}),
    # match: an element of the array matches every field of the object
    ("errors", "match", {"error_code": "ERROR_AUTH"}, {J2}),
    ("errors", "match", {"error_code": "ERROR_AUTH", "message": "Quota exceeded"}, set()),
    ("errors", "match", {"error_code": "ERROR_QUOTA", "message": "Quota exceeded"}, {J2}),
    ("errors", "match", {"error_code": {"$exists": True}}, set()),
    # regex / regex_in: case-insensitive regular expressions
    ("job_id", "regex", "^job-0+[a-d]", {JABCD, JC6}),
    ("job_id", "regex", "^JOB-0+OLD", {JOLD}),
    ("job_id", "regex", "^zzz", set()),
    ("job_id", "regex_in", ["gone$", "OLD"], {JGONE, JOLD}),
    ("job_id", "regex_in", ["^x", "^y"], set()),
    # datetime_*: an ISO 8601 instant (UTC when no offset)
    ("created_at", "datetime_gt", "2024-05-15T10:00:00Z", {JC6}),
    ("created_at", "datetime_gte", "2024-05-15T10:00:00Z", {J1, J7, JC6}),
    ("created_at", "datetime_gte", "2024-05-15T12:00:00+02:00", {J1, J7, JC6}),
    ("created_at", "datetime_gte", "2024-05-15T10:00:00", {J1, J7, JC6}),
    ("created_at", "datetime_lt", "2024-05-01T00:00:00.000Z", {JOLD}),
    ("created_at", "datetime_lte", "2024-05-01", {JOLD, JGONE}),
    ("created_at", "datetime_lt", "2000-01-01", set()),
    # timediff_*: relative to the (fixed) clock, 2024-05-15T12:00Z, a Wednesday
    ("created_at", "timediff_gte", "now/d", {J1, J7, JC6}),
    ("created_at", "timediff_gt", "now-2h", {JC6}),
    ("created_at", "timediff_gt", "now - 2h", {JC6}),
    ("created_at", "timediff_lt", "now/w", {JABCD, JOLD, JGONE}),
    ("created_at", "timediff_gte", "now/m", D1_JOB_IDS - {JOLD}),
    ("created_at", "timediff_gte", "now/d-1d", {J1, J2, J7, JC6}),
    ("created_at", "timediff_lte", "now/d-14d", {JOLD, JGONE}),
    ("created_at", "timediff_lt", "now+1h", D1_JOB_IDS),
    ("created_at", "timediff_gt", "now+1w", set()),
    ("created_at", "timediff_gte", "now-90s", {JC6}),
]


COLLECTOR_CASES = [
    ("collector_info.provider", "eq", "aws", AWS_JOBS),
    ("collector_info.provider", "eq", "openstack", {JOLD}),  # through the old `collector` reference
    ("collector_info.provider", "eq", "azure", set()),
    ("collector_info.provider", "not", "aws", {J2, JOLD, JGONE}),  # a gone collector is "not aws"
    ("collector_info.provider", "not_in", ["aws", "openstack"], {J2, JGONE}),
    ("collector_info.provider", "in", ["google_cloud", "openstack"], {J2, JOLD}),
    ("collector_info.state", "eq", "DISABLED", {J2}),
    ("collector_info.name", "contain", "aws", AWS_JOBS),
    ("collector_info.name", "not_contain", "aws", {J2, JOLD, JGONE}),
    ("collector_info.plugin_info.plugin_id", "eq", "plugin-openstack", {JOLD}),
    ("collector_info.is_public", "eq", False, {J2}),
    ("collector_info.tags", "in", [{"$ne": None}, {"team": "platform"}], D1_JOB_IDS - {JGONE}),
    ("collector_info.tags", "in", [{"$exists": True}], set()),
    ("collector_info.tags", "not_in", [{"$exists": True}], D1_JOB_IDS),
]

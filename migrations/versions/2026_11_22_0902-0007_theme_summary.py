"""Theme summary: precomputed counts for fast per-proposal theme queries.

`theme_counts` (numerator) and `answer_counts` (denominator), keyed by the summary's filter
dimensions, kept exact in the writing transaction by statement-level triggers with
transition tables (see app/themes/models.py). `theme_counts_rebuild(proposal_ids)` recomputes
from scratch (NULL: everything); it runs once here to count what already exists.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 09:02:00+00:00
"""

# SQL is assembled from this file's own constants only (no input): S608 does not apply.
# ruff: noqa: S608
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NIL = "'00000000-0000-0000-0000-000000000000'::uuid"
KEY6 = "codeframe_id, theme_id, respondent_kind, region, stance, campaign_id"
KEY5 = "proposal_id, respondent_kind, region, stance, campaign_id"
UPSERT_THEMES = f"""
    INSERT INTO theme_counts AS tc ({KEY6}, n)
    SELECT * FROM ({{select}}) d
    ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT ({KEY6}) DO UPDATE SET n = tc.n + excluded.n;
"""
UPSERT_ANSWERS = f"""
    INSERT INTO answer_counts AS ac ({KEY5}, n)
    SELECT * FROM ({{select}}) d
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT ({KEY5}) DO UPDATE SET n = ac.n + excluded.n;
"""
# An answer counts in the denominator when it answers an open-text question.
ANSWERED = "q.kind = 'open_text' AND a.text IS NOT NULL AND btrim(a.text) <> ''"


def _stance(response: str, proposal: str, when: str = "") -> str:
    """The response's current stance for the proposal, looked up per row by response id.

    The proposal condition is deliberately not indexable (`IS TRUE`): on tables without
    fresh statistics (right after a bulk import) the planner otherwise scans the
    (proposal_id, value) index for every row, which is quadratic."""
    return f"""LEFT JOIN LATERAL (
            SELECT st.value FROM stances st
            WHERE {when}st.response_id = {response} AND st.is_current
              AND (st.proposal_id = {proposal}) IS TRUE
        ) s ON true"""


def _codings_delta(sources: list[tuple[str, int]]) -> str:
    """Theme-count delta of coding rows from transition tables: (table, sign)."""
    rows = " UNION ALL ".join(
        f"SELECT answer_id, theme_id, codeframe_id, {sign} AS d FROM {table} "
        "WHERE is_current AND present"
        for table, sign in sources
    )
    select = f"""
        SELECT c.codeframe_id, c.theme_id, p.kind, coalesce(p.region, ''),
               coalesce(s.value, ''), coalesce(r.campaign_id, {NIL}), sum(c.d)
        FROM ({rows}) c
        JOIN codeframes f ON f.id = c.codeframe_id
        JOIN themes t ON t.id = c.theme_id
        JOIN answers a ON a.id = c.answer_id
        JOIN responses r ON r.id = a.response_id AND r.status = 'received'
        JOIN respondents p ON p.id = r.respondent_id
        {_stance("r.id", "f.proposal_id")}
        GROUP BY 1, 2, 3, 4, 5, 6
        HAVING sum(c.d) <> 0
    """
    # Serialise with changes of the same responses' status, campaign or stance (which lock
    # them FOR NO KEY UPDATE), so each side counts the other's committed rows exactly once.
    lock = f"""
        PERFORM count(*) FROM (
            SELECT 1 FROM responses r
            WHERE r.id IN (SELECT a.response_id FROM answers a
                           WHERE a.id IN (SELECT answer_id FROM ({rows}) l))
            ORDER BY r.id FOR SHARE OF r
        ) locked;
    """
    return lock + UPSERT_THEMES.format(select=select)


def _answers_delta(sources: list[tuple[str, int]]) -> str:
    rows = " UNION ALL ".join(
        f"SELECT id, response_id, question_id, text, {sign} AS d FROM {table}"
        for table, sign in sources
    )
    select = f"""
        SELECT q.proposal_id, p.kind, coalesce(p.region, ''), coalesce(s.value, ''),
               coalesce(r.campaign_id, {NIL}), sum(a.d)
        FROM ({rows}) a
        JOIN questions q ON q.id = a.question_id
        JOIN responses r ON r.id = a.response_id AND r.status = 'received'
        JOIN respondents p ON p.id = r.respondent_id
        {_stance("r.id", "q.proposal_id")}
        WHERE {ANSWERED}
        GROUP BY 1, 2, 3, 4, 5
        HAVING sum(a.d) <> 0
    """
    return UPSERT_ANSWERS.format(select=select)


# Moves the counts of whole responses between dimension values. Each element: a response,
# optionally one proposal (NULL: all), its old and new kind, region, stance (NULL: the
# current stance for the proposal), campaign and whether it counted (status received).
MOVE_SIDES = """
    SELECT m.response_id, m.proposal_id, m.kind, m.region, m.stance, m.campaign, -1 AS d
    FROM unnest(p_response, p_proposal, p_old_kind, p_old_region, p_old_stance,
                p_old_campaign, p_old)
         AS m(response_id, proposal_id, kind, region, stance, campaign, counted)
    WHERE m.counted
    UNION ALL
    SELECT m.response_id, m.proposal_id, m.kind, m.region, m.stance, m.campaign, 1 AS d
    FROM unnest(p_response, p_proposal, p_new_kind, p_new_region, p_new_stance,
                p_new_campaign, p_new)
         AS m(response_id, proposal_id, kind, region, stance, campaign, counted)
    WHERE m.counted
"""

MOVE_FUNCTION = f"""
CREATE FUNCTION theme_counts_move(
    p_response uuid[], p_proposal uuid[],
    p_old_kind text[], p_old_region text[], p_old_stance text[], p_old_campaign uuid[],
    p_old boolean[],
    p_new_kind text[], p_new_region text[], p_new_stance text[], p_new_campaign uuid[],
    p_new boolean[]
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    {
    UPSERT_THEMES.format(
        select=f'''
        SELECT c.codeframe_id, c.theme_id, x.kind, x.region,
               coalesce(x.stance, s.value, ''), x.campaign, sum(x.d)
        FROM ({MOVE_SIDES}) x
        JOIN answers a ON a.response_id = x.response_id
        JOIN codings c ON c.answer_id = a.id AND c.is_current AND c.present
        JOIN codeframes f ON f.id = c.codeframe_id
             AND (x.proposal_id IS NULL OR f.proposal_id = x.proposal_id)
        {_stance("x.response_id", "f.proposal_id", "x.stance IS NULL AND ")}
        GROUP BY 1, 2, 3, 4, 5, 6
        HAVING sum(x.d) <> 0'''
    )
}
    {
    UPSERT_ANSWERS.format(
        select=f'''
        SELECT q.proposal_id, x.kind, x.region, coalesce(x.stance, s.value, ''), x.campaign,
               sum(x.d)
        FROM ({MOVE_SIDES}) x
        JOIN answers a ON a.response_id = x.response_id
        JOIN questions q ON q.id = a.question_id
             AND (x.proposal_id IS NULL OR q.proposal_id = x.proposal_id)
        {_stance("x.response_id", "q.proposal_id", "x.stance IS NULL AND ")}
        WHERE {ANSWERED}
        GROUP BY 1, 2, 3, 4, 5
        HAVING sum(x.d) <> 0'''
    )
}
END $$;
"""

REBUILD_FUNCTION = f"""
CREATE FUNCTION theme_counts_rebuild(p_proposals uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM theme_counts tc USING codeframes f
    WHERE f.id = tc.codeframe_id AND (p_proposals IS NULL OR f.proposal_id = ANY(p_proposals));
    DELETE FROM answer_counts
    WHERE p_proposals IS NULL OR proposal_id = ANY(p_proposals);
    INSERT INTO theme_counts ({KEY6}, n)
    SELECT c.codeframe_id, c.theme_id, p.kind, coalesce(p.region, ''), coalesce(s.value, ''),
           coalesce(r.campaign_id, {NIL}), count(*)
    FROM codings c
    JOIN codeframes f ON f.id = c.codeframe_id
    JOIN answers a ON a.id = c.answer_id
    JOIN responses r ON r.id = a.response_id AND r.status = 'received'
    JOIN respondents p ON p.id = r.respondent_id
    LEFT JOIN stances s
           ON s.response_id = r.id AND s.proposal_id = f.proposal_id AND s.is_current
    WHERE c.is_current AND c.present
      AND (p_proposals IS NULL OR f.proposal_id = ANY(p_proposals))
    GROUP BY 1, 2, 3, 4, 5, 6;
    INSERT INTO answer_counts ({KEY5}, n)
    SELECT q.proposal_id, p.kind, coalesce(p.region, ''), coalesce(s.value, ''),
           coalesce(r.campaign_id, {NIL}), count(*)
    FROM answers a
    JOIN questions q ON q.id = a.question_id
    JOIN responses r ON r.id = a.response_id AND r.status = 'received'
    JOIN respondents p ON p.id = r.respondent_id
    LEFT JOIN stances s
           ON s.response_id = r.id AND s.proposal_id = q.proposal_id AND s.is_current
    WHERE {ANSWERED} AND (p_proposals IS NULL OR q.proposal_id = ANY(p_proposals))
    GROUP BY 1, 2, 3, 4, 5;
END $$;
"""


def _trigger_function(name: str, body: str) -> str:
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{body}
    RETURN NULL;
END $$;
"""


STANCE_MOVE = """
    PERFORM count(*) FROM (
        SELECT 1 FROM responses r WHERE r.id IN (SELECT response_id FROM {rows})
        ORDER BY r.id FOR NO KEY UPDATE OF r
    ) locked;
    PERFORM theme_counts_move(
        array_agg(r.id), array_agg(x.proposal_id),
        array_agg(p.kind::text), array_agg(coalesce(p.region, '')), array_agg(x.before),
        array_agg(coalesce(r.campaign_id, {nil})), array_agg(r.status = 'received'),
        array_agg(p.kind::text), array_agg(coalesce(p.region, '')), array_agg(NULL::text),
        array_agg(coalesce(r.campaign_id, {nil})), array_agg(r.status = 'received'))
    FROM ({select}) x
    JOIN responses r ON r.id = x.response_id
    JOIN respondents p ON p.id = r.respondent_id
    HAVING count(*) > 0;
"""

FUNCTIONS = {
    "theme_counts_codings_ins": _codings_delta([("new_rows", 1)]),
    "theme_counts_codings_upd": _codings_delta([("new_rows", 1), ("old_rows", -1)]),
    "theme_counts_codings_del": _codings_delta([("old_rows", -1)]),
    "theme_counts_answers_ins": _answers_delta([("new_rows", 1)]),
    "theme_counts_answers_upd": _answers_delta([("new_rows", 1), ("old_rows", -1)]),
    "theme_counts_answers_del": """
    PERFORM theme_counts_rebuild(array_agg(DISTINCT q.proposal_id))
    FROM old_rows a JOIN questions q ON q.id = a.question_id HAVING count(*) > 0;
""",
    # A new current stance: from none ('') to it (NULL: read the current one).
    "theme_counts_stances_ins": STANCE_MOVE.format(
        rows="new_rows",
        nil=NIL,
        select="SELECT response_id, proposal_id, ''::text AS before FROM new_rows WHERE is_current",
    ),
    # A stance that stops being current (superseded) or is deleted: from it to the current.
    "theme_counts_stances_upd": STANCE_MOVE.format(
        rows="old_rows",
        nil=NIL,
        select="SELECT o.response_id, o.proposal_id, "
        "CASE WHEN o.is_current THEN o.value::text ELSE '' END AS before "
        "FROM old_rows o JOIN new_rows n ON n.id = o.id "
        "WHERE o.is_current IS DISTINCT FROM n.is_current OR o.value <> n.value",
    ),
    "theme_counts_stances_del": STANCE_MOVE.format(
        rows="old_rows",
        nil=NIL,
        select="SELECT response_id, proposal_id, value::text AS before FROM old_rows "
        "WHERE is_current",
    ),
    # Status, campaign or respondent of a response: its old rows out, its new rows in.
    "theme_counts_responses_upd": f"""
    PERFORM theme_counts_move(
        array_agg(o.id), array_agg(NULL::uuid),
        array_agg(po.kind::text), array_agg(coalesce(po.region, '')), array_agg(NULL::text),
        array_agg(coalesce(o.campaign_id, {NIL})), array_agg(o.status = 'received'),
        array_agg(pn.kind::text), array_agg(coalesce(pn.region, '')), array_agg(NULL::text),
        array_agg(coalesce(n.campaign_id, {NIL})), array_agg(n.status = 'received'))
    FROM old_rows o
    JOIN new_rows n ON n.id = o.id
    JOIN respondents po ON po.id = o.respondent_id
    JOIN respondents pn ON pn.id = n.respondent_id
    WHERE (o.status, o.campaign_id, o.respondent_id)
          IS DISTINCT FROM (n.status, n.campaign_id, n.respondent_id)
    HAVING count(*) > 0;
""",
    "theme_counts_responses_del": """
    PERFORM theme_counts_rebuild(array_agg(DISTINCT pr.id))
    FROM proposals pr WHERE pr.consultation_id IN (SELECT consultation_id FROM old_rows)
    HAVING count(*) > 0;
""",
    "theme_counts_respondents_upd": f"""
    PERFORM theme_counts_move(
        array_agg(r.id), array_agg(NULL::uuid),
        array_agg(o.kind::text), array_agg(coalesce(o.region, '')), array_agg(NULL::text),
        array_agg(coalesce(r.campaign_id, {NIL})), array_agg(r.status = 'received'),
        array_agg(n.kind::text), array_agg(coalesce(n.region, '')), array_agg(NULL::text),
        array_agg(coalesce(r.campaign_id, {NIL})), array_agg(r.status = 'received'))
    FROM old_rows o
    JOIN new_rows n ON n.id = o.id
    JOIN responses r ON r.respondent_id = o.id
    WHERE (o.kind, coalesce(o.region, '')) IS DISTINCT FROM (n.kind, coalesce(n.region, ''))
    HAVING count(*) > 0;
""",
    "theme_counts_respondents_del": """
    PERFORM theme_counts_rebuild(array_agg(DISTINCT pr.id))
    FROM proposals pr WHERE pr.consultation_id IN (SELECT consultation_id FROM old_rows)
    HAVING count(*) > 0;
""",
    "theme_counts_truncated": """
    PERFORM theme_counts_rebuild(NULL);
""",
}

TRIGGERS = [
    (table, op_name, f"theme_counts_{table}_{suffix}")
    for table in ("codings", "answers", "stances", "responses", "respondents")
    for op_name, suffix in (("INSERT", "ins"), ("UPDATE", "upd"), ("DELETE", "del"))
    if f"theme_counts_{table}_{suffix}" in FUNCTIONS
]


def _referencing(op_name: str) -> str:
    return {
        "INSERT": "REFERENCING NEW TABLE AS new_rows",
        "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "DELETE": "REFERENCING OLD TABLE AS old_rows",
    }[op_name]


def upgrade() -> None:
    op.create_table(
        "theme_counts",
        sa.Column("codeframe_id", sa.UUID(), nullable=False),
        sa.Column("theme_id", sa.UUID(), nullable=False),
        sa.Column("respondent_kind", sa.String(length=32), nullable=False),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("stance", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.UUID(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["codeframe_id"],
            ["codeframes.id"],
            name=op.f("fk_theme_counts_codeframe_id_codeframes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["themes.id"],
            name=op.f("fk_theme_counts_theme_id_themes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "codeframe_id",
            "theme_id",
            "respondent_kind",
            "region",
            "stance",
            "campaign_id",
            name=op.f("pk_theme_counts"),
        ),
    )
    op.create_table(
        "answer_counts",
        sa.Column("proposal_id", sa.UUID(), nullable=False),
        sa.Column("respondent_kind", sa.String(length=32), nullable=False),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("stance", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.UUID(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_answer_counts_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "proposal_id",
            "respondent_kind",
            "region",
            "stance",
            "campaign_id",
            name=op.f("pk_answer_counts"),
        ),
    )
    op.execute(MOVE_FUNCTION)
    op.execute(REBUILD_FUNCTION)
    for name, body in FUNCTIONS.items():
        op.execute(_trigger_function(name, body))
    for table, op_name, function in TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {function} AFTER {op_name} ON {table} {_referencing(op_name)} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    for table in ("codings", "answers", "stances", "responses", "respondents"):
        op.execute(
            f"CREATE TRIGGER theme_counts_{table}_truncated AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION theme_counts_truncated()"
        )
    op.execute("SELECT theme_counts_rebuild(NULL)")


def downgrade() -> None:
    for table in ("codings", "answers", "stances", "responses", "respondents"):
        op.execute(f"DROP TRIGGER theme_counts_{table}_truncated ON {table}")
    for table, _, function in TRIGGERS:
        op.execute(f"DROP TRIGGER {function} ON {table}")
    for name in FUNCTIONS:
        op.execute(f"DROP FUNCTION {name}()")
    op.execute("DROP FUNCTION theme_counts_rebuild(uuid[])")
    op.execute(
        "DROP FUNCTION theme_counts_move(uuid[], uuid[], text[], text[], text[], uuid[], "
        "boolean[], text[], text[], text[], uuid[], boolean[])"
    )
    op.drop_table("answer_counts")
    op.drop_table("theme_counts")

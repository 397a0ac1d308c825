"""Published codeframes are immutable in the database too, not only in the service.

A published (or superseded) codeframe version may only:
- move from published to superseded (a newer version was published),
- have entries appended to its change log (publishing records its own entry),
- lose `based_on_id` / `created_by` to NULL (their foreign keys are ON DELETE SET NULL).
Everything else is refused, and so is adding or changing a theme of such a version. Drafts
are free. Deleting (a consultation or proposal going, with its versions) is left alone.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 09:06:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CODEFRAMES_FUNCTION = """
CREATE FUNCTION consult_codeframes_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_length integer;
BEGIN
    IF OLD.status = 'draft' THEN
        RETURN NEW;
    END IF;
    IF (to_jsonb(NEW) - 'status' - 'change_log' - 'based_on_id' - 'created_by')
           IS DISTINCT FROM
       (to_jsonb(OLD) - 'status' - 'change_log' - 'based_on_id' - 'created_by')
       OR (NEW.based_on_id IS DISTINCT FROM OLD.based_on_id AND NEW.based_on_id IS NOT NULL)
       OR (NEW.created_by IS DISTINCT FROM OLD.created_by AND NEW.created_by IS NOT NULL)
       OR NOT (NEW.status = OLD.status
               OR (OLD.status = 'published' AND NEW.status = 'superseded')) THEN
        RAISE EXCEPTION 'codeframe % (version %) is %: it cannot change; make a new version',
            OLD.id, OLD.version, OLD.status
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF NEW.change_log IS DISTINCT FROM OLD.change_log THEN
        old_length := jsonb_array_length(OLD.change_log);
        IF OLD.status <> 'published'
           OR jsonb_typeof(NEW.change_log) <> 'array'
           OR jsonb_array_length(NEW.change_log) < old_length
           OR (SELECT coalesce(jsonb_agg(entry ORDER BY n), '[]'::jsonb)
                 FROM jsonb_array_elements(NEW.change_log) WITH ORDINALITY AS e(entry, n)
                WHERE n <= old_length) IS DISTINCT FROM OLD.change_log THEN
            RAISE EXCEPTION 'codeframe % (version %) is %: its change log can only grow',
                OLD.id, OLD.version, OLD.status
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
"""

THEMES_FUNCTION = """
CREATE FUNCTION consult_themes_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    frozen record;
BEGIN
    IF TG_OP = 'UPDATE' AND to_jsonb(NEW) IS NOT DISTINCT FROM to_jsonb(OLD) THEN
        RETURN NEW;
    END IF;
    SELECT id, version, status INTO frozen FROM codeframes
     WHERE status <> 'draft'
       AND (id = NEW.codeframe_id OR (TG_OP = 'UPDATE' AND id = OLD.codeframe_id))
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION
            'codeframe % (version %) is %: its themes cannot change; make a new version',
            frozen.id, frozen.version, frozen.status
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    RETURN NEW;
END
$$;
"""


def upgrade() -> None:
    op.execute(CODEFRAMES_FUNCTION)
    op.execute(
        "CREATE TRIGGER codeframes_frozen BEFORE UPDATE ON codeframes "
        "FOR EACH ROW EXECUTE FUNCTION consult_codeframes_frozen()"
    )
    op.execute(THEMES_FUNCTION)
    op.execute(
        "CREATE TRIGGER themes_frozen BEFORE INSERT OR UPDATE ON themes "
        "FOR EACH ROW EXECUTE FUNCTION consult_themes_frozen()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS themes_frozen ON themes")
    op.execute("DROP FUNCTION IF EXISTS consult_themes_frozen()")
    op.execute("DROP TRIGGER IF EXISTS codeframes_frozen ON codeframes")
    op.execute("DROP FUNCTION IF EXISTS consult_codeframes_frozen()")

-- 010_calibration: how empowerment fares, per tier and agent, so that a
-- manager can raise or lower a tier's limits (docs/CALIBRATION.md).

-- One row per decision of an agent (allow, escalate, deny), with how the
-- complaint fared when the agent resolved it within authority.
CREATE VIEW v_calibration AS
SELECT d.at, d.user_id, u.name AS agent, u.tier, u.team, d.kind, d.action, d.amount,
       c.id AS complaint_id,
       (d.kind = 'allow' AND c.resolved_via = 'allow' AND c.reopened_count > 0) AS reopened,
       CASE WHEN d.kind = 'allow' THEN f.csat END AS csat
  FROM decisions d
  JOIN users u ON u.id = d.user_id
  LEFT JOIN complaints c ON c.id = d.complaint_id
  LEFT JOIN feedback f ON f.complaint_id = d.complaint_id
 WHERE d.kind IN ('allow', 'escalate', 'deny');


-- CALIBRATION [tier=] [from=] [to=]: per tier and agent, the decisions in
-- the period and how the ones resolved within authority fared.
CREATE FUNCTION cd_calibration(p_uid bigint, p_role text, p_tier integer,
                               p_from timestamptz, p_to timestamptz)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	n integer := 0;
	r record;
	f timestamptz := coalesce(p_from, now() - interval '30 days');
	t timestamptz := coalesce(p_to, now());
BEGIN
	FOR r IN
		SELECT v.tier, v.agent,
		       count(*) FILTER (WHERE v.kind = 'allow') AS allowed,
		       count(*) FILTER (WHERE v.kind = 'escalate') AS escalated,
		       count(*) FILTER (WHERE v.kind = 'deny') AS denied,
		       count(*) FILTER (WHERE v.reopened) AS reopened,
		       count(v.csat) AS rated,
		       avg(v.csat) AS csat,
		       coalesce(sum(v.amount) FILTER (WHERE v.kind = 'allow'), 0)::bigint AS goodwill
		  FROM v_calibration v
		 WHERE v.at >= f AND v.at < t AND (p_tier IS NULL OR v.tier = p_tier)
		 GROUP BY v.tier, v.agent
		 ORDER BY v.tier, v.agent
	LOOP
		n := n + 1;
		RETURN NEXT ROW('ROW', ARRAY['tier', r.tier::text, 'agent', r.agent,
		        'allowed', r.allowed::text, 'escalated', r.escalated::text,
		        'denied', r.denied::text,
		        'empowered', cd_share(r.allowed, r.allowed + r.escalated + r.denied),
		        'reopened', cd_share(r.reopened, r.allowed),
		        'csat', CASE WHEN r.rated > 0 THEN to_char(round(r.csat, 2), 'FM0.00') ELSE '' END,
		        'goodwill', cd_money(r.goodwill)])::cd_line;
	END LOOP;
	RETURN NEXT cd_ok('count', n::text, 'from', cd_ts(f), 'to', cd_ts(t));
END $$;

-- ---- targets (supervisors; STATS shows them beside the figures) -------

-- TARGET SET: p_missing names an agent or team that does not exist.
CREATE FUNCTION cd_target_set(p_uid bigint, p_role text, p_scope text, p_name text,
                              p_figure text, p_op text, p_value text,
                              p_from timestamptz, p_to timestamptz)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	tid bigint;
BEGIN
	IF p_scope = 'agent' AND NOT EXISTS (SELECT 1 FROM users WHERE name = p_name) THEN
		RETURN NEXT cd_no('not-found', 'no such agent');
		RETURN;
	END IF;
	IF p_scope = 'team' AND NOT EXISTS (SELECT 1 FROM users WHERE team = p_name) THEN
		RETURN NEXT cd_no('not-found', 'no such team');
		RETURN;
	END IF;
	INSERT INTO targets (scope, name, figure, op, value, valid_from, valid_to, set_by)
	VALUES (p_scope, p_name, p_figure, p_op, p_value::numeric,
	        coalesce((p_from AT TIME ZONE 'UTC')::date, (now() AT TIME ZONE 'UTC')::date),
	        (p_to AT TIME ZONE 'UTC')::date, p_uid)
	RETURNING id INTO tid;
	RETURN NEXT cd_ok('target', tid::text);
END $$;

CREATE FUNCTION cd_target_list(p_uid bigint, p_role text, p_scope text, p_name text)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	n integer := 0;
	t targets;
BEGIN
	FOR t IN SELECT * FROM targets
	          WHERE (p_scope IS NULL OR scope = p_scope) AND (p_name IS NULL OR name = p_name)
	          ORDER BY id LOOP
		n := n + 1;
		RETURN NEXT ROW('ROW', ARRAY['target', t.id::text, 'scope', t.scope, 'name', t.name,
		                             'figure', t.figure, 'op', t.op, 'value', t.value::text,
		                             'from', t.valid_from::text,
		                             'to', coalesce(t.valid_to::text, '')])::cd_line;
	END LOOP;
	RETURN NEXT cd_ok('count', n::text);
END $$;

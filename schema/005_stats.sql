-- 005_stats: performance figures (PROTOCOL §11 STATS) and the reporting
-- views they are computed from. Integrations and reporting tools may read
-- the v_* views directly; docs/FIGURES.md defines every figure and column.
--
-- Every figure aggregates one facts view over the period [from, to), on
-- that view's own time column, for the people or queue it is counted for:
-- agent (the person credited), team and dept (that person's, as they are
-- now), queue.

-- ---- resolutions -------------------------------------------------------

-- A complaint row holds only its latest resolution: a reopen followed by a
-- new resolution overwrites resolved_at, resolved_by and both deadlines.
-- The figures need every resolution with the facts as they were, so a
-- trigger keeps one row per resolution. An "episode" runs from the
-- complaint's opening (or its reopening) to the resolution.
CREATE TABLE resolutions (
	id            bigserial PRIMARY KEY,
	complaint_id  bigint NOT NULL REFERENCES complaints (id),
	opened_at     timestamptz NOT NULL,        -- the episode's start
	resolved_at   timestamptz NOT NULL,
	resolved_by   bigint REFERENCES users (id),
	credited_to   bigint REFERENCES users (id),
	resolved_via  text,
	queue         text NOT NULL,
	respond_by    timestamptz NOT NULL,
	resolve_by    timestamptz NOT NULL,
	replied_at    timestamptz,
	action        text,
	reopened_at   timestamptz                  -- NULL until reopened
);
-- At most one resolution per complaint is still standing.
CREATE UNIQUE INDEX resolutions_standing ON resolutions (complaint_id)
	WHERE reopened_at IS NULL;
CREATE INDEX resolutions_complaint ON resolutions (complaint_id, resolved_at);
CREATE INDEX resolutions_resolved_at ON resolutions (resolved_at);

-- While a complaint is resolved or closed, its standing resolution follows
-- the row (the resolving transaction may set credited_to or resolved_via
-- in a second UPDATE; a reply may come after the resolution). A reopen
-- ends it: the reopen time is when the complaint went back to its queue.
CREATE FUNCTION cd_resolution_track() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	started timestamptz;
BEGIN
	IF NEW.state = 'reopened' THEN
		IF TG_OP = 'UPDATE' AND OLD.state <> 'reopened' THEN
			UPDATE resolutions
			   SET reopened_at = CASE WHEN NEW.queued_at IS DISTINCT FROM OLD.queued_at
			                          THEN NEW.queued_at ELSE now() END
			 WHERE complaint_id = NEW.id AND reopened_at IS NULL;
		END IF;
		RETURN NULL;
	END IF;
	IF NEW.resolved_at IS NULL THEN
		RETURN NULL;
	END IF;
	UPDATE resolutions
	   SET resolved_at = NEW.resolved_at, resolved_by = NEW.resolved_by,
	       credited_to = NEW.credited_to, resolved_via = NEW.resolved_via,
	       queue = NEW.queue, respond_by = NEW.respond_by, resolve_by = NEW.resolve_by,
	       replied_at = NEW.replied_at, action = NEW.action
	 WHERE complaint_id = NEW.id AND reopened_at IS NULL;
	IF NOT FOUND THEN
		SELECT max(reopened_at) INTO started FROM resolutions WHERE complaint_id = NEW.id;
		INSERT INTO resolutions (complaint_id, opened_at, resolved_at, resolved_by,
		                         credited_to, resolved_via, queue, respond_by,
		                         resolve_by, replied_at, action)
		VALUES (NEW.id, coalesce(started, NEW.created_at), NEW.resolved_at, NEW.resolved_by,
		        NEW.credited_to, NEW.resolved_via, NEW.queue, NEW.respond_by,
		        NEW.resolve_by, NEW.replied_at, NEW.action);
	END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER complaints_resolutions AFTER INSERT OR UPDATE ON complaints
	FOR EACH ROW WHEN (NEW.state IN ('resolved', 'closed', 'reopened'))
	EXECUTE FUNCTION cd_resolution_track();

-- Complaints resolved before this migration: their latest resolution, as
-- well as the row still tells it (earlier ones were overwritten).
INSERT INTO resolutions (complaint_id, opened_at, resolved_at, resolved_by, credited_to,
                         resolved_via, queue, respond_by, resolve_by, replied_at, action,
                         reopened_at)
SELECT c.id,
       coalesce((SELECT max(h.at) FROM complaint_history h
                  WHERE h.complaint_id = c.id AND h.event = 'reopened'
                    AND h.at <= c.resolved_at), c.created_at),
       c.resolved_at, c.resolved_by, c.credited_to, c.resolved_via, c.queue,
       c.respond_by, c.resolve_by, c.replied_at, c.action,
       CASE WHEN c.state NOT IN ('resolved', 'closed') THEN c.queued_at END
  FROM complaints c
 WHERE c.resolved_at IS NOT NULL;

-- ---- indexes for the periods the figures read ---------------------------

CREATE INDEX interactions_ended ON interactions (ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX feedback_at ON feedback (at);
CREATE INDEX grants_at ON grants (at);
CREATE INDEX handoffs_dept_opened ON handoffs (dept, opened_at);

-- ---- reporting views ---------------------------------------------------

-- One row per resolution: what handled, fcr, sla_met, respond_met,
-- escalated, reopened and empowered count. agent is who is credited: the
-- resolver, or the requester of the approved escalation that resolved it.
CREATE VIEW v_resolution_facts AS
SELECT r.id AS resolution_id,
       r.complaint_id,
       c.customer_id,
       c.category,
       c.severity,
       r.queue,
       r.opened_at,
       r.resolved_at,
       coalesce(r.credited_to, r.resolved_by) AS agent_id,
       u.name AS agent,
       u.team,
       u.dept,
       rb.name AS resolved_by,
       v.via AS resolved_via,
       r.action,
       r.respond_by,
       r.resolve_by,
       r.replied_at,
       n.interactions,
       n.interactions <= 1 AS first_contact,
       r.resolved_at <= r.resolve_by AS sla_met,
       coalesce(r.replied_at <= r.respond_by, false) AS respond_met,
       EXISTS (SELECT 1 FROM escalations e
                WHERE e.complaint_id = r.complaint_id AND e.requested_by IS NOT NULL
                  AND e.created_at >= r.opened_at AND e.created_at <= r.resolved_at)
         AS escalated,
       r.reopened_at IS NOT NULL AS reopened,
       r.reopened_at,
       v.via = 'allow' AS empowered,
       (SELECT coalesce(sum(g.amount), 0) FROM grants g
         WHERE g.complaint_id = r.complaint_id
           AND g.at >= r.opened_at AND g.at <= r.resolved_at)::bigint AS goodwill
  FROM resolutions r
  JOIN complaints c ON c.id = r.complaint_id
  LEFT JOIN users u ON u.id = coalesce(r.credited_to, r.resolved_by)
  LEFT JOIN users rb ON rb.id = r.resolved_by
  CROSS JOIN LATERAL (
	SELECT count(*) AS interactions FROM interactions i
	 WHERE i.complaint_id = r.complaint_id AND i.started_at <= r.resolved_at) n
  -- Rows written before the empowerment module recorded resolved_via: a
  -- resolution credited to someone other than the resolver was approved.
  CROSS JOIN LATERAL (
	SELECT coalesce(r.resolved_via,
	                CASE WHEN r.credited_to IS DISTINCT FROM r.resolved_by
	                          AND r.credited_to IS NOT NULL
	                     THEN 'approval' ELSE 'allow' END) AS via) v;

-- One row per complaint, as it stands now.
CREATE VIEW v_complaint_facts AS
SELECT c.id AS complaint_id,
       c.customer_id,
       c.queue,
       c.category,
       c.severity,
       c.state,
       c.created_at,
       cb.name AS created_by,
       a.name AS assignee,
       c.respond_by,
       c.resolve_by,
       c.replied_at,
       c.respond_breach_at IS NOT NULL AS respond_breached,
       c.resolve_breach_at IS NOT NULL AS resolve_breached,
       (SELECT count(*) FROM resolutions r WHERE r.complaint_id = c.id) AS resolutions,
       (SELECT count(*) FROM resolutions r
         WHERE r.complaint_id = c.id AND r.reopened_at IS NOT NULL) AS reopens,
       (SELECT min(r.resolved_at) FROM resolutions r WHERE r.complaint_id = c.id)
         AS first_resolved_at,
       last.resolved_at AS last_resolved_at,
       last.agent AS resolver,
       last.resolved_via,
       (SELECT count(*) FROM interactions i WHERE i.complaint_id = c.id) AS interactions,
       (SELECT count(*) FROM escalations e
         WHERE e.complaint_id = c.id AND e.requested_by IS NOT NULL) AS escalations,
       (SELECT count(*) FROM handoffs h WHERE h.complaint_id = c.id) AS handoffs,
       (SELECT coalesce(sum(g.amount), 0) FROM grants g WHERE g.complaint_id = c.id)::bigint
         AS goodwill,
       f.csat
  FROM complaints c
  LEFT JOIN users cb ON cb.id = c.created_by
  LEFT JOIN users a ON a.id = c.assignee_id
  LEFT JOIN feedback f ON f.complaint_id = c.id
  LEFT JOIN LATERAL (
	SELECT rf.resolved_at, rf.agent, rf.resolved_via FROM v_resolution_facts rf
	 WHERE rf.complaint_id = c.id ORDER BY rf.resolved_at DESC, rf.resolution_id DESC
	 LIMIT 1) last ON true;

-- One row per interaction; duration in whole seconds, as INTERACTION END
-- reports it (NULL while it goes on). queue is its complaint's.
CREATE VIEW v_interaction_facts AS
SELECT i.id AS interaction_id,
       i.customer_id,
       i.complaint_id,
       c.queue,
       i.channel,
       i.direction,
       i.agent_id,
       u.name AS agent,
       u.team,
       u.dept,
       i.started_at,
       i.ended_at,
       i.outcome,
       floor(extract(epoch FROM i.ended_at - i.started_at))::bigint AS duration
  FROM interactions i
  JOIN users u ON u.id = i.agent_id
  LEFT JOIN complaints c ON c.id = i.complaint_id;

-- One row per feedback, counted for the resolution it rates: the
-- complaint's latest resolution at the time the feedback came.
CREATE VIEW v_feedback_facts AS
SELECT f.complaint_id,
       f.at,
       f.csat,
       coalesce(r.queue, c.queue) AS queue,
       u.id AS agent_id,
       u.name AS agent,
       u.team,
       u.dept,
       r.id AS resolution_id
  FROM feedback f
  JOIN complaints c ON c.id = f.complaint_id
  LEFT JOIN LATERAL (
	SELECT * FROM resolutions r
	 WHERE r.complaint_id = f.complaint_id AND r.resolved_at <= f.at
	 ORDER BY r.resolved_at DESC, r.id DESC LIMIT 1) r ON true
  LEFT JOIN users u
    ON u.id = coalesce(r.credited_to, r.resolved_by, c.credited_to, c.resolved_by);

-- One row per grant of money (goodwill), counted for the agent who
-- granted it within authority, or for the requester of the escalation
-- whose approval granted it.
CREATE VIEW v_goodwill_facts AS
SELECT g.id AS grant_id,
       g.complaint_id,
       g.customer_id,
       c.queue,
       g.action,
       g.amount,
       g.at,
       gb.name AS granted_by,
       g.escalation_id,
       CASE WHEN g.escalation_id IS NULL THEN 'allow' ELSE 'approval' END AS via,
       u.id AS agent_id,
       u.name AS agent,
       u.team,
       u.dept
  FROM grants g
  JOIN complaints c ON c.id = g.complaint_id
  JOIN users gb ON gb.id = g.granted_by
  LEFT JOIN escalations e ON e.id = g.escalation_id
  LEFT JOIN users u ON u.id = coalesce(e.requested_by, g.granted_by);

-- One row per hand-off. on_time: answered (done) by its due time; false
-- when done late or still not done after it; NULL while not done and not
-- yet due (nothing to measure yet).
CREATE VIEW v_handoff_facts AS
SELECT h.id AS handoff_id,
       h.complaint_id,
       c.queue,
       h.dept,
       h.state,
       h.opened_at,
       ob.name AS opened_by,
       ob.team AS opened_by_team,
       h.due,
       h.acked_at,
       h.done_at,
       CASE WHEN h.done_at IS NOT NULL THEN h.done_at <= h.due
            WHEN now() >= h.due THEN false END AS on_time,
       floor(extract(epoch FROM h.done_at - h.opened_at))::bigint AS answer_seconds,
       h.score,
       h.rated_at
  FROM handoffs h
  JOIN complaints c ON c.id = h.complaint_id
  LEFT JOIN users ob ON ob.id = h.opened_by;

-- ---- STATS -------------------------------------------------------------

-- A rate: two digits, "" when there is nothing to measure.
CREATE FUNCTION cd_share(num bigint, den bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN den = 0 THEN '' ELSE round(num::numeric / den, 2)::text END
$$;

-- STATS (PROTOCOL §11). At most one of p_agent, p_team, p_queue, p_dept
-- (the server refuses more); none: the caller. p_missing: set by the
-- server when the queue or department is not in the rules (the message),
-- answered here so that it comes after the database check. The period
-- defaults to the current day of p_tz (the configuration's timezone).
CREATE FUNCTION cd_stats(p_uid bigint, p_role text, p_agent text, p_team text,
                         p_queue text, p_dept text, p_from timestamptz,
                         p_to timestamptz, p_missing text, p_tz text)
RETURNS SETOF cd_line LANGUAGE plpgsql STABLE AS $$
DECLARE
	tz text := coalesce(nullif(p_tz, ''), 'UTC');
	today timestamp := date_trunc('day', now() AT TIME ZONE tz);
	t_from timestamptz := coalesce(p_from, today AT TIME ZONE tz);
	t_to timestamptz := coalesce(p_to, (today + interval '1 day') AT TIME ZONE tz);
	sel bigint;                 -- the agent selected (or the caller)
	sel_name text;
	sel_team text;              -- whose team targets apply
	n bigint; n_fcr bigint; n_sla bigint; n_resp bigint;
	n_esc bigint; n_reop bigint; n_emp bigint;
	aht numeric;
	csat numeric;
	goodwill bigint;
	kv text[];
	t record;
BEGIN
	IF p_agent IS NOT NULL THEN
		SELECT id, name, team INTO sel, sel_name, sel_team FROM users WHERE name = p_agent;
		IF NOT FOUND THEN
			RETURN NEXT cd_no('not-found', 'no such user');
			RETURN;
		END IF;
	ELSIF p_team IS NOT NULL THEN
		IF NOT EXISTS (SELECT 1 FROM users WHERE team = p_team) THEN
			RETURN NEXT cd_no('not-found', 'no such team');
			RETURN;
		END IF;
		sel_team := p_team;
	ELSIF p_missing IS NOT NULL THEN
		RETURN NEXT cd_no('not-found', p_missing);
		RETURN;
	ELSIF p_queue IS NULL AND p_dept IS NULL THEN
		SELECT id, name, team INTO sel, sel_name, sel_team FROM users WHERE id = p_uid;
	END IF;
	IF NOT cd_is_sup(p_role) AND sel IS DISTINCT FROM p_uid THEN
		RETURN NEXT cd_no('forbidden', 'agents may see their own figures only');
		RETURN;
	END IF;

	SELECT count(*),
	       count(*) FILTER (WHERE first_contact),
	       count(*) FILTER (WHERE sla_met),
	       count(*) FILTER (WHERE respond_met),
	       count(*) FILTER (WHERE escalated),
	       count(*) FILTER (WHERE reopened),
	       count(*) FILTER (WHERE empowered)
	  INTO n, n_fcr, n_sla, n_resp, n_esc, n_reop, n_emp
	  FROM v_resolution_facts f
	 WHERE f.resolved_at >= t_from AND f.resolved_at < t_to
	   AND (sel IS NULL OR f.agent_id = sel) AND (p_team IS NULL OR f.team = p_team)
	   AND (p_queue IS NULL OR f.queue = p_queue) AND (p_dept IS NULL OR f.dept = p_dept);

	SELECT round(avg(f.duration)) INTO aht
	  FROM v_interaction_facts f
	 WHERE f.ended_at >= t_from AND f.ended_at < t_to
	   AND (sel IS NULL OR f.agent_id = sel) AND (p_team IS NULL OR f.team = p_team)
	   AND (p_queue IS NULL OR f.queue = p_queue) AND (p_dept IS NULL OR f.dept = p_dept);

	SELECT round(avg(f.csat), 2) INTO csat
	  FROM v_feedback_facts f
	 WHERE f.at >= t_from AND f.at < t_to
	   AND (sel IS NULL OR f.agent_id = sel) AND (p_team IS NULL OR f.team = p_team)
	   AND (p_queue IS NULL OR f.queue = p_queue) AND (p_dept IS NULL OR f.dept = p_dept);

	SELECT coalesce(sum(f.amount), 0) INTO goodwill
	  FROM v_goodwill_facts f
	 WHERE f.at >= t_from AND f.at < t_to
	   AND (sel IS NULL OR f.agent_id = sel) AND (p_team IS NULL OR f.team = p_team)
	   AND (p_queue IS NULL OR f.queue = p_queue) AND (p_dept IS NULL OR f.dept = p_dept);

	kv := ARRAY['handled', n::text,
	            'fcr', cd_share(n_fcr, n),
	            'aht', coalesce(aht::bigint::text, ''),
	            'sla_met', cd_share(n_sla, n),
	            'csat', coalesce(csat::text, ''),
	            'escalated', cd_share(n_esc, n),
	            'reopened', cd_share(n_reop, n),
	            'empowered', cd_share(n_emp, n),
	            'goodwill', cd_money(goodwill),
	            -- extensions
	            'respond_met', cd_share(n_resp, n),
	            'from', cd_ts(t_from),
	            'to', cd_ts(t_to)];

	-- A department as internal supplier: hand-offs it received in the
	-- period, the share answered on time, the desk's mean rating.
	IF p_dept IS NOT NULL THEN
		SELECT count(*), count(*) FILTER (WHERE on_time),
		       count(*) FILTER (WHERE on_time IS NOT NULL), round(avg(score), 2)
		  INTO n, n_fcr, n_sla, csat
		  FROM v_handoff_facts f
		 WHERE f.dept = p_dept AND f.opened_at >= t_from AND f.opened_at < t_to;
		kv := kv || ARRAY['handoffs', n::text,
		                  'handoffs_on_time', cd_share(n_fcr, n_sla),
		                  'handoff_rating', coalesce(csat::text, '')];
	END IF;

	-- Targets in force during the period (valid_to inclusive): the
	-- agent's own, else their team's; a team's for a team.
	FOR t IN
		SELECT * FROM (
			SELECT DISTINCT ON (g.figure) g.figure, g.op, g.value
			  FROM targets g
			 WHERE ((g.scope = 'agent' AND g.name = sel_name)
			        OR (g.scope = 'team' AND g.name = sel_team))
			   AND g.valid_from <= ((t_to - interval '1 microsecond') AT TIME ZONE tz)::date
			   AND (g.valid_to IS NULL OR g.valid_to >= (t_from AT TIME ZONE tz)::date)
			 ORDER BY g.figure, g.scope = 'agent' DESC, g.valid_from DESC, g.set_at DESC,
			          g.id DESC) x
		 ORDER BY array_position(ARRAY['handled', 'fcr', 'aht', 'sla_met', 'csat',
		                               'escalated', 'reopened', 'empowered'], x.figure)
	LOOP
		kv := kv || ARRAY[t.figure || '_' || t.op,
		                  CASE WHEN t.figure IN ('handled', 'aht')
		                       THEN round(t.value)::text
		                       ELSE round(t.value, 2)::text END];
	END LOOP;

	RETURN NEXT ROW('OK', kv)::cd_line;
END $$;

-- ---- metrics ------------------------------------------------------------

-- The gauges /metrics reads from the database (server/metrics.c), one row
-- per value: queue figures as QUEUE LIST gives them, agents by state,
-- agents in an interaction, pending escalations, open hand-offs by
-- department. p_queues and p_skillsets as for cd_queue_list.
CREATE FUNCTION cd_metrics_gauges(p_queues text[], p_skillsets text[])
RETURNS TABLE (kind text, name text, value bigint) LANGUAGE sql STABLE AS $$
	SELECT * FROM (
		SELECT 'queue_' || k.key AS kind,
		       (l).kv[array_position((l).kv, 'queue') + 1] AS name,
		       ((l).kv[array_position((l).kv, k.key) + 1])::bigint AS value
		  FROM cd_queue_list(0, 'admin', p_queues, p_skillsets) l
		 CROSS JOIN unnest(ARRAY['waiting', 'oldest_wait', 'agents_ready']) AS k(key)
		 WHERE (l).kind = 'ROW'
		UNION ALL
		SELECT 'agents', coalesce(s.state, 'offline'), count(*)
		  FROM users u LEFT JOIN agent_state s ON s.user_id = u.id
		 WHERE u.enabled AND u.role IN ('agent', 'supervisor', 'admin')
		 GROUP BY coalesce(s.state, 'offline')
		UNION ALL
		SELECT 'in_interaction', '', count(DISTINCT i.agent_id)
		  FROM interactions i WHERE i.ended_at IS NULL
		UNION ALL
		SELECT 'escalations_pending', '', count(*)
		  FROM escalations e WHERE e.state = 'pending'
		UNION ALL
		SELECT 'handoffs_open', h.dept, count(*)
		  FROM handoffs h WHERE h.state <> 'done' GROUP BY h.dept
	) x ORDER BY x.kind, x.name
$$;

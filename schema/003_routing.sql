-- 003_routing: live events, NEXT and ASSIGN, the supervisors' snapshot.
--
-- Events are raised once per change, by triggers, through NOTIFY on the
-- channel 'calldesk': every node LISTENs and fans them out to its own
-- watchers, so events cross nodes through PostgreSQL alone. A payload is a
-- text[] literal: {queue, user, key, value, ...}; queue routes it to the
-- watchers of that queue ('' = every watcher), user to that user's own
-- sessions ('' = nobody in particular). Events with type 'queue-dirty'
-- are hints for the nodes, never sent to clients.

CREATE FUNCTION cd_notify(p_queue text, p_user text, VARIADIC kv text[])
RETURNS void LANGUAGE sql AS $$
	SELECT pg_notify('calldesk',
	                 (ARRAY[coalesce(p_queue, ''), coalesce(p_user, '')] || kv)::text)
$$;

-- The acting user of this transaction, set by functions that assign a
-- complaint to the caller, so that only assignments by someone else are
-- pushed to the assignee.
CREATE FUNCTION cd_actor() RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT coalesce(nullif(current_setting('calldesk.actor', true), ''), '0')::bigint
$$;

CREATE FUNCTION cd_complaint_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	personal text := '';
BEGIN
	IF TG_OP = 'UPDATE' AND NEW.state = OLD.state
	   AND NEW.assignee_id IS NOT DISTINCT FROM OLD.assignee_id
	   AND NEW.queue = OLD.queue THEN
		RETURN NULL;
	END IF;
	IF NEW.assignee_id IS NOT NULL AND NEW.assignee_id <> cd_actor()
	   AND (TG_OP = 'INSERT' OR NEW.assignee_id IS DISTINCT FROM OLD.assignee_id) THEN
		personal := cd_user_name(NEW.assignee_id);
	END IF;
	PERFORM cd_notify(NEW.queue, personal,
		'type', 'complaint', 'complaint', NEW.id::text, 'state', NEW.state,
		'queue', NEW.queue,
		'assignee', coalesce((SELECT name FROM users WHERE id = NEW.assignee_id), ''));
	IF TG_OP = 'UPDATE' AND OLD.queue <> NEW.queue THEN
		PERFORM cd_notify(OLD.queue, '', 'type', 'queue-dirty', 'queue', OLD.queue);
	END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER complaints_notify AFTER INSERT OR UPDATE ON complaints
	FOR EACH ROW EXECUTE FUNCTION cd_complaint_notify();

CREATE FUNCTION cd_agent_notify_user(p_uid bigint) RETURNS void
LANGUAGE sql AS $$
	SELECT cd_notify('', '', 'type', 'agent', 'user', u.name,
	                 'state', coalesce(s.state, 'offline'), 'activity', cd_activity(u.id))
	  FROM users u LEFT JOIN agent_state s ON s.user_id = u.id
	 WHERE u.id = p_uid
$$;

CREATE FUNCTION cd_agent_state_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND NEW.state = OLD.state THEN
		RETURN NULL;
	END IF;
	PERFORM cd_agent_notify_user(NEW.user_id);
	RETURN NULL;
END $$;

CREATE TRIGGER agent_state_notify AFTER INSERT OR UPDATE ON agent_state
	FOR EACH ROW EXECUTE FUNCTION cd_agent_state_notify();

-- An interaction that starts or ends changes the agent's activity.
CREATE FUNCTION cd_interaction_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND NEW.ended_at IS NOT DISTINCT FROM OLD.ended_at THEN
		RETURN NULL;
	END IF;
	PERFORM cd_agent_notify_user(NEW.agent_id);
	RETURN NULL;
END $$;

CREATE TRIGGER interactions_notify AFTER INSERT OR UPDATE ON interactions
	FOR EACH ROW EXECUTE FUNCTION cd_interaction_notify();

-- ---- NEXT and ASSIGN ---------------------------------------------------

-- Effective severity for NEXT: one step better for every p_aging seconds
-- waited (date_part gives double precision, much cheaper than numeric).
CREATE FUNCTION cd_next_rank(p_severity integer, p_queued timestamptz, p_aging integer)
RETURNS integer LANGUAGE sql STABLE AS $$
	SELECT greatest(1, p_severity - floor(date_part('epoch', now() - p_queued)
	                                      / greatest(p_aging, 1))::integer)
$$;

-- NEXT: the best waiting complaint among the caller's skills (queue or
-- category names), by effective severity (severity improved by one step
-- for every p_aging seconds of waiting, so that nothing starves), then VIP
-- customers, then the earliest resolve deadline, then the longest wait.
-- SKIP LOCKED: agents racing on any node never get the same complaint.
CREATE FUNCTION cd_next(p_uid bigint, p_role text, p_skills text, p_capacity integer,
                        p_aging integer, p_from text[])
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	skills text[] := CASE WHEN coalesce(p_skills, '') = '' THEN '{}'::text[]
	                      ELSE string_to_array(p_skills, ',') END;
	held integer;
	cid bigint;
	c complaints;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM agent_state WHERE user_id = p_uid AND state = 'ready') THEN
		RETURN NEXT cd_no('invalid-state', 'set your state to ready first');
		RETURN;
	END IF;
	-- The best few by the order above (a cheap top-N sort), then the first
	-- of them not locked by an agent racing on any node; only when all
	-- of those are taken, the whole queue again.
	SELECT w.id INTO cid
	  FROM complaints w JOIN customers cu ON cu.id = w.customer_id
	 WHERE w.id IN (SELECT c2.id FROM complaints c2 JOIN customers cu2 ON cu2.id = c2.customer_id
	                 WHERE c2.state = ANY (p_from)
	                   AND (c2.queue = ANY (skills) OR c2.category = ANY (skills))
	                 ORDER BY cd_next_rank(c2.severity, c2.queued_at, p_aging),
	                          cu2.vip DESC, c2.resolve_by, c2.queued_at, c2.id
	                 LIMIT 64)
	   AND w.state = ANY (p_from)
	 ORDER BY cd_next_rank(w.severity, w.queued_at, p_aging), cu.vip DESC, w.resolve_by,
	          w.queued_at, w.id
	 LIMIT 1
	 FOR UPDATE OF w SKIP LOCKED;
	IF cid IS NULL THEN
		SELECT c2.id INTO cid
		  FROM complaints c2 JOIN customers cu ON cu.id = c2.customer_id
		 WHERE c2.state = ANY (p_from)
		   AND (c2.queue = ANY (skills) OR c2.category = ANY (skills))
		 ORDER BY cd_next_rank(c2.severity, c2.queued_at, p_aging),
		          cu.vip DESC, c2.resolve_by, c2.queued_at, c2.id
		 LIMIT 1
		 FOR UPDATE OF c2 SKIP LOCKED;
	END IF;
	IF cid IS NULL THEN
		RETURN NEXT cd_no('empty', 'no complaint waits for your skills');
		RETURN;
	END IF;
	SELECT count(*) INTO held FROM complaints
	 WHERE assignee_id = p_uid AND state IN ('assigned', 'waiting', 'escalated');
	-- The user's own capacity wins over the tier's (p_capacity).
	IF held >= coalesce((SELECT capacity FROM users WHERE id = p_uid), p_capacity) THEN
		RETURN NEXT cd_no('at-capacity', 'you hold as many complaints as your capacity');
		RETURN;
	END IF;
	PERFORM set_config('calldesk.actor', p_uid::text, true);
	UPDATE complaints SET state = 'assigned', assignee_id = p_uid WHERE id = cid
	RETURNING * INTO c;
	PERFORM cd_history(cid, p_uid, 'assigned', '');
	RETURN NEXT ROW('OK', cd_complaint_fields(c))::cd_line;
END $$;

CREATE FUNCTION cd_assign(p_uid bigint, p_role text, p_id bigint, p_agent text,
                          p_from text[])
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	c complaints;
	aid bigint;
BEGIN
	SELECT * INTO c FROM complaints WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NEXT cd_no('not-found', 'no such complaint');
		RETURN;
	END IF;
	SELECT id INTO aid FROM users WHERE name = p_agent AND role <> 'integration';
	IF NOT FOUND THEN
		RETURN NEXT cd_no('not-found', 'no such agent');
		RETURN;
	END IF;
	IF NOT (c.state = ANY (p_from)) THEN
		RETURN NEXT cd_no('invalid-state', 'not allowed in state ' || c.state);
		RETURN;
	END IF;
	PERFORM set_config('calldesk.actor', p_uid::text, true);
	UPDATE complaints
	   SET assignee_id = aid,
	       state = CASE WHEN state IN ('new', 'reopened') THEN 'assigned' ELSE state END
	 WHERE id = p_id;
	PERFORM cd_history(p_id, p_uid, 'assigned', '');
	RETURN NEXT cd_ok();
END $$;

-- ---- WATCH snapshot ----------------------------------------------------

-- The OK line, then the snapshot as EVENT lines: every queue (filtered),
-- every agent's state, complaints at risk or breached, pending
-- escalations (when the escalation module is installed), then
-- snapshot-end. The server writes it as one block, so that changes come
-- after it.
CREATE FUNCTION cd_watch_snapshot(p_uid bigint, p_role text, p_queues text[],
                                  p_skillsets text[], p_share numeric)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
BEGIN
	RETURN NEXT cd_ok();
	RETURN QUERY
		SELECT 'EVENT'::text, ARRAY['type', 'queue'] || ((l).kv)
		  FROM cd_queue_list(p_uid, p_role, p_queues, p_skillsets) l
		 WHERE (l).kind = 'ROW';
	RETURN QUERY
		SELECT 'EVENT'::text, ARRAY['type', 'agent', 'user', u.name,
		                            'state', coalesce(s.state, 'offline'),
		                            'activity', cd_activity(u.id)]
		  FROM users u LEFT JOIN agent_state s ON s.user_id = u.id
		 WHERE u.role IN ('agent', 'supervisor', 'admin') AND u.enabled
		 ORDER BY u.name;
	RETURN QUERY
		SELECT 'EVENT'::text, ARRAY['type', 'sla', 'complaint', c.id::text,
		                            'deadline', d.deadline, 'status',
		                            CASE WHEN d.due < now() THEN 'breached' ELSE 'at-risk' END]
		  FROM complaints c,
		       LATERAL (VALUES ('respond', c.respond_by, c.respond_within, c.replied_at IS NULL),
		                       ('resolve', c.resolve_by, c.resolve_within,
		                        c.state NOT IN ('resolved', 'closed', 'waiting')))
		               AS d(deadline, due, span, open)
		 WHERE d.open AND c.state NOT IN ('resolved', 'closed')
		   AND c.queue = ANY (p_queues)
		   AND d.due - now() < make_interval(secs => d.span * p_share)
		 ORDER BY c.id, d.deadline;
	-- pending escalations (the table comes with 004; read dynamically so
	-- that this function can be created before it)
	IF to_regclass('escalations') IS NOT NULL THEN
		RETURN QUERY EXECUTE
			'SELECT ''EVENT''::text, ARRAY[''type'', ''escalation'', ''escalation'', e.id::text,
			        ''complaint'', e.complaint_id::text, ''state'', e.state,
			        ''approver'', e.approver, ''level'', e.level::text]
			   FROM escalations e JOIN complaints c ON c.id = e.complaint_id
			  WHERE e.state = ''pending'' AND c.queue = ANY ($1)
			  ORDER BY e.id' USING p_queues;
	END IF;
	RETURN NEXT ROW('EVENT', ARRAY['type', 'snapshot-end'])::cd_line;
END $$;

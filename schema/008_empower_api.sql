-- 008_empower_api: the statements of the empowerment module (PROTOCOL §9).
--
-- The rules engine runs in the server, in memory. It decides on facts read
-- by cd_facts(); the statement that acts on the decision re-reads the
-- running totals under row locks (the agent's row for the daily budget,
-- the customer's row for the 30-day cap) and answers RETRY when they moved
-- since the facts were read, so that the server decides again: requests
-- racing on any node can never together exceed a budget or a cap.

-- The start of today in the configured time zone.
CREATE FUNCTION cd_day_start(p_tz text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT date_trunc('day', now() AT TIME ZONE p_tz) AT TIME ZONE p_tz
$$;

-- Goodwill a user granted today (their own grants and their approvals).
CREATE FUNCTION cd_granted_today(p_uid bigint, p_tz text) RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT coalesce(sum(amount), 0)::bigint FROM grants
	 WHERE granted_by = p_uid AND at >= cd_day_start(p_tz)
$$;

-- Whether an approver ('role:NAME', 'dept:NAME', 'user:NAME') names the
-- user: a role names every user of that role or above.
CREATE FUNCTION cd_names(p_approver text, p_uid bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT CASE split_part(p_approver, ':', 1)
	       WHEN 'user' THEN u.name = split_part(p_approver, ':', 2)
	       WHEN 'dept' THEN u.dept IS NOT DISTINCT FROM split_part(p_approver, ':', 2)
	       WHEN 'role' THEN
	            (CASE u.role WHEN 'agent' THEN 1 WHEN 'supervisor' THEN 2 WHEN 'admin' THEN 3 ELSE 0 END)
	            >= (CASE split_part(p_approver, ':', 2)
	                WHEN 'agent' THEN 1 WHEN 'supervisor' THEN 2 WHEN 'admin' THEN 3 ELSE 99 END)
	       ELSE false END
	  FROM users u WHERE u.id = p_uid
$$;

-- The facts of a complaint for the engine, and the caller's grants today.
-- present=false when the complaint does not exist.
CREATE FUNCTION cd_facts(p_uid bigint, p_complaint bigint, p_tz text,
	OUT present boolean, OUT state text, OUT assignee bigint, OUT category text,
	OUT severity integer, OUT vip boolean, OUT customer bigint,
	OUT customer_30d bigint, OUT agent_today bigint, OUT age_s bigint,
	OUT resolve_left_s bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	c complaints;
BEGIN
	agent_today := cd_granted_today(p_uid, p_tz);
	SELECT * INTO c FROM complaints WHERE id = p_complaint;
	present := FOUND;
	IF NOT present THEN
		RETURN;
	END IF;
	state := c.state;
	assignee := c.assignee_id;
	category := c.category;
	severity := c.severity;
	customer := c.customer_id;
	SELECT cu.vip INTO vip FROM customers cu WHERE cu.id = c.customer_id;
	customer_30d := cd_goodwill_30d(c.customer_id);
	age_s := floor(extract(epoch FROM now() - c.created_at))::bigint;
	resolve_left_s := floor(extract(epoch FROM c.resolve_by - now()))::bigint;
END $$;

-- The stored answer of an idempotency key, looked up before deciding:
-- 'replay' with the answer, 'conflict', or 'none'.
CREATE FUNCTION cd_idem_peek(p_uid bigint, p_key text, p_hash text,
                             OUT status text, OUT response text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	h text;
BEGIN
	SELECT k.req_hash, k.response INTO h, response FROM idem_keys k
	 WHERE k.user_id = p_uid AND k.key = p_key
	   AND k.created_at >= now() - interval '24 hours' AND k.response IS NOT NULL;
	IF NOT FOUND THEN
		status := 'none';
	ELSIF h = p_hash THEN
		status := 'replay';
	ELSE
		status := 'conflict';
		response := NULL;
	END IF;
END $$;

-- Forgets a key claimed by a request that ends with NO (only OK answers
-- are stored), so that its transaction may still commit what the NO
-- records (a denial in the audit trail).
CREATE FUNCTION cd_idem_release(p_uid bigint, p_key text) RETURNS void
LANGUAGE sql AS $$
	DELETE FROM idem_keys WHERE user_id = p_uid AND key = p_key AND response IS NULL
$$;

CREATE FUNCTION cd_decision(p_uid bigint, p_kind text, p_complaint bigint,
                            p_escalation bigint, p_rule text, p_action text,
                            p_amount bigint, p_facts jsonb)
RETURNS void LANGUAGE sql AS $$
	INSERT INTO decisions (user_id, kind, complaint_id, escalation_id, rule, action, amount, facts)
	VALUES (p_uid, p_kind, p_complaint, p_escalation, coalesce(p_rule, ''), p_action, p_amount,
	        coalesce(p_facts, '{}'))
$$;

-- COMPLAINT RESOLVE, acting on the engine's decision. p_seen_today and
-- p_seen_30d are the totals the decision was made on.
CREATE FUNCTION cd_resolve(p_uid bigint, p_role text, p_id bigint, p_action text,
                           p_amount bigint, p_resolution text, p_justify_later boolean,
                           p_decision text, p_rule text, p_msg text, p_approver text,
                           p_level integer, p_due_s integer, p_justify_within integer,
                           p_seen_today bigint, p_seen_30d bigint, p_from text[],
                           p_tz text, p_facts jsonb, p_followup_after integer)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	c complaints;
	eid bigint;
	e escalations;
BEGIN
	SELECT * INTO c FROM complaints WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NEXT cd_no('not-found', 'no such complaint');
		RETURN;
	END IF;
	IF c.assignee_id IS DISTINCT FROM p_uid AND NOT cd_is_sup(p_role) THEN
		RETURN NEXT cd_no('forbidden', 'only the assignee or a supervisor may do this');
		RETURN;
	END IF;
	IF NOT (c.state = ANY (p_from)) THEN
		RETURN NEXT cd_no('invalid-state', 'not allowed in state ' || c.state);
		RETURN;
	END IF;
	IF p_amount IS NOT NULL THEN
		-- Serialise every grant of this agent and to this customer.
		PERFORM 1 FROM users WHERE id = p_uid FOR UPDATE;
		PERFORM 1 FROM customers WHERE id = c.customer_id FOR UPDATE;
		IF cd_granted_today(p_uid, p_tz) <> p_seen_today
		   OR cd_goodwill_30d(c.customer_id) <> p_seen_30d THEN
			RETURN NEXT ROW('RETRY', '{}'::text[])::cd_line;
			RETURN;
		END IF;
	END IF;
	IF p_decision = 'deny' THEN
		PERFORM cd_decision(p_uid, 'deny', p_id, NULL, p_rule, p_action, p_amount, p_facts);
		RETURN NEXT ROW('NO', ARRAY['code', 'denied', 'rule', p_rule,
		                            'msg', coalesce(nullif(p_msg, ''), 'against policy')])::cd_line;
		RETURN;
	END IF;
	IF p_decision = 'escalate' THEN
		INSERT INTO escalations (complaint_id, requested_by, action, amount, resolution, reason,
		                         rule, approver, level, due, justify_later)
		VALUES (p_id, p_uid, p_action, p_amount, p_resolution, 'beyond authority', p_rule,
		        p_approver, p_level, now() + make_interval(secs => p_due_s),
		        coalesce(p_justify_later, false))
		RETURNING * INTO e;
		UPDATE complaints SET state = 'escalated' WHERE id = p_id;
		PERFORM cd_decision(p_uid, 'escalate', p_id, e.id, p_rule, p_action, p_amount, p_facts);
		PERFORM cd_history(p_id, p_uid, 'escalated', p_resolution);
		RETURN NEXT cd_ok('decision', 'escalate', 'rule', p_rule, 'state', 'escalated',
		                  'escalation', e.id::text, 'approver', e.approver, 'due', cd_ts(e.due));
		RETURN;
	END IF;
	UPDATE complaints
	   SET state = 'resolved', action = p_action, amount = p_amount,
	       resolution = p_resolution, resolved_at = now(), resolved_by = p_uid,
	       resolved_via = 'allow', credited_to = p_uid,
	       justify_by = CASE WHEN coalesce(p_justify_later, false)
	                         THEN now() + make_interval(secs => coalesce(p_justify_within, 86400)) END,
	       justified_at = NULL, justify_late_at = NULL
	 WHERE id = p_id;
	IF p_amount IS NOT NULL THEN
		INSERT INTO grants (complaint_id, customer_id, granted_by, action, amount)
		VALUES (p_id, c.customer_id, p_uid, p_action, p_amount);
	END IF;
	PERFORM cd_decision(p_uid, 'allow', p_id, NULL, p_rule, p_action, p_amount, p_facts);
	PERFORM cd_history(p_id, p_uid, 'resolved', p_resolution);
	-- p_followup_after: seconds until the desk calls the customer back
	-- (NULL: no follow-up). The table comes with 011.
	IF p_followup_after IS NOT NULL THEN
		PERFORM cd_followup_schedule(p_id, p_uid, p_followup_after);
	END IF;
	RETURN NEXT cd_ok('decision', 'allow', 'rule', p_rule, 'state', 'resolved');
END $$;

-- ESCALATE: an escalation without an action, to p_approver (checked by
-- the server: p_missing names an approver that does not exist).
CREATE FUNCTION cd_escalate(p_uid bigint, p_role text, p_id bigint, p_reason text,
                            p_approver text, p_level integer, p_due_s integer,
                            p_missing text, p_from text[])
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	c complaints;
	e escalations;
BEGIN
	SELECT * INTO c FROM complaints WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NEXT cd_no('not-found', 'no such complaint');
		RETURN;
	END IF;
	IF p_missing IS NOT NULL OR (split_part(p_approver, ':', 1) = 'user' AND NOT EXISTS
	   (SELECT 1 FROM users WHERE name = split_part(p_approver, ':', 2))) THEN
		RETURN NEXT cd_no('not-found', coalesce(p_missing, 'no such user'));
		RETURN;
	END IF;
	IF c.assignee_id IS DISTINCT FROM p_uid AND NOT cd_is_sup(p_role) THEN
		RETURN NEXT cd_no('forbidden', 'only the assignee or a supervisor may do this');
		RETURN;
	END IF;
	IF NOT (c.state = ANY (p_from)) THEN
		RETURN NEXT cd_no('invalid-state', 'not allowed in state ' || c.state);
		RETURN;
	END IF;
	INSERT INTO escalations (complaint_id, requested_by, reason, rule, approver, level, due)
	VALUES (p_id, p_uid, p_reason, 'escalate', p_approver, p_level,
	        now() + make_interval(secs => p_due_s))
	RETURNING * INTO e;
	UPDATE complaints SET state = 'escalated' WHERE id = p_id;
	PERFORM cd_decision(p_uid, 'escalate', p_id, e.id, 'escalate', NULL, NULL, '{}');
	PERFORM cd_history(p_id, p_uid, 'escalated', p_reason);
	RETURN NEXT cd_ok('escalation', e.id::text, 'approver', e.approver, 'due', cd_ts(e.due));
END $$;

CREATE FUNCTION cd_escalation_row(e escalations) RETURNS text[]
LANGUAGE sql STABLE AS $$
	SELECT ARRAY['escalation', e.id::text, 'complaint', e.complaint_id::text,
	             'requested_by', cd_user_name(e.requested_by),
	             'action', coalesce(e.action, ''), 'amount', coalesce(cd_money(e.amount), ''),
	             'approver', e.approver, 'level', e.level::text, 'due', cd_ts(e.due),
	             'state', e.state]
$$;

CREATE FUNCTION cd_escalation_list(p_uid bigint, p_role text, p_state text,
                                   p_mine boolean, p_limit integer)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	n integer := 0;
	more boolean := false;
	e escalations;
BEGIN
	p_limit := coalesce(p_limit, 100);   -- the lists' default (PROTOCOL §8)
	FOR e IN
		SELECT * FROM escalations x
		 WHERE (p_state IS NULL OR x.state = p_state)
		   AND (NOT coalesce(p_mine, false) OR cd_names(x.approver, p_uid))
		   AND (cd_is_sup(p_role) OR x.requested_by = p_uid OR cd_names(x.approver, p_uid))
		 ORDER BY x.id
		 LIMIT p_limit + 1
	LOOP
		IF n = p_limit THEN
			more := true;
			EXIT;
		END IF;
		n := n + 1;
		RETURN NEXT ROW('ROW', cd_escalation_row(e))::cd_line;
	END LOOP;
	RETURN NEXT cd_ok('count', n::text, 'more', cd_yn(more));
END $$;

-- Facts of an escalation for APPROVE and RAISE.
CREATE FUNCTION cd_escalation_facts(p_uid bigint, p_id bigint, p_tz text,
	OUT present boolean, OUT requested_by bigint, OUT action text, OUT amount bigint,
	OUT approver text, OUT level integer, OUT state text, OUT caller_today bigint,
	OUT caller_named boolean)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	e escalations;
BEGIN
	caller_today := cd_granted_today(p_uid, p_tz);
	SELECT * INTO e FROM escalations WHERE id = p_id;
	present := FOUND;
	IF NOT present THEN
		RETURN;
	END IF;
	requested_by := e.requested_by;
	action := e.action;
	amount := e.amount;
	approver := e.approver;
	level := e.level;
	state := e.state;
	caller_named := cd_names(e.approver, p_uid);
END $$;

-- Puts an escalated complaint back to assigned once no request of its
-- agent waits any more. Returns the complaint's state.
CREATE FUNCTION cd_unescalate(p_complaint bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	st text;
BEGIN
	UPDATE complaints SET state = 'assigned'
	 WHERE id = p_complaint AND state = 'escalated'
	   AND NOT EXISTS (SELECT 1 FROM escalations
	                    WHERE complaint_id = p_complaint AND state = 'pending'
	                      AND requested_by IS NOT NULL);
	SELECT state INTO st FROM complaints WHERE id = p_complaint;
	RETURN st;
END $$;

-- APPROVE and REJECT. p_covers: the server's verdict on the approver's own
-- authority (tier limit and budget left) for the amount, made on
-- p_seen_today, re-checked here under the approver's row lock.
CREATE FUNCTION cd_decide_escalation(p_uid bigint, p_role text, p_id bigint, p_verb text,
                                     p_text text, p_covers boolean, p_seen_today bigint,
                                     p_tz text)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	e escalations;
	c complaints;
	st text;
BEGIN
	SELECT * INTO e FROM escalations WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NEXT cd_no('not-found', 'no such escalation');
		RETURN;
	END IF;
	IF e.requested_by = p_uid THEN
		RETURN NEXT cd_no('four-eyes', 'nobody decides on their own request');
		RETURN;
	END IF;
	IF NOT cd_names(e.approver, p_uid) THEN
		RETURN NEXT cd_no('forbidden', 'this escalation waits on ' || e.approver);
		RETURN;
	END IF;
	IF p_verb = 'approve' AND e.amount IS NOT NULL THEN
		PERFORM 1 FROM users WHERE id = p_uid FOR UPDATE;
		IF cd_granted_today(p_uid, p_tz) <> p_seen_today THEN
			RETURN NEXT ROW('RETRY', '{}'::text[])::cd_line;
			RETURN;
		END IF;
	END IF;
	IF p_verb = 'approve' AND NOT p_covers THEN
		RETURN NEXT cd_no('forbidden', 'beyond your own authority: raise it up the chain');
		RETURN;
	END IF;
	IF e.state <> 'pending' THEN
		RETURN NEXT cd_no('invalid-state', 'the escalation is ' || e.state);
		RETURN;
	END IF;
	SELECT * INTO c FROM complaints WHERE id = e.complaint_id FOR UPDATE;
	IF p_verb = 'reject' THEN
		UPDATE escalations SET state = 'rejected', decided_by = p_uid, decided_at = now(),
		       note = p_text WHERE id = p_id;
		PERFORM cd_decision(p_uid, 'reject', e.complaint_id, p_id, e.rule, e.action, e.amount, '{}');
		PERFORM cd_history(e.complaint_id, p_uid, 'rejected', p_text);
		st := CASE WHEN e.requested_by IS NULL THEN c.state ELSE cd_unescalate(e.complaint_id) END;
		RETURN NEXT cd_ok('state', 'rejected', 'complaint_state', st);
		RETURN;
	END IF;
	UPDATE escalations SET state = 'approved', decided_by = p_uid, decided_at = now(),
	       note = p_text WHERE id = p_id;
	PERFORM cd_decision(p_uid, 'approve', e.complaint_id, p_id, e.rule, e.action, e.amount, '{}');
	PERFORM cd_history(e.complaint_id, p_uid, 'approved', coalesce(p_text, ''));
	IF e.action IS NOT NULL AND e.requested_by IS NOT NULL AND c.state = 'escalated' THEN
		UPDATE complaints
		   SET state = 'resolved', action = e.action, amount = e.amount,
		       resolution = e.resolution, resolved_at = now(), resolved_by = p_uid,
		       resolved_via = 'approval', credited_to = e.requested_by,
		       justify_by = NULL
		 WHERE id = e.complaint_id;
		IF e.amount IS NOT NULL THEN
			-- Charged to the approver's budget and the customer's total,
			-- under the customer's lock like every grant.
			PERFORM 1 FROM customers WHERE id = c.customer_id FOR UPDATE;
			INSERT INTO grants (complaint_id, customer_id, granted_by, action, amount, escalation_id)
			VALUES (e.complaint_id, c.customer_id, p_uid, e.action, e.amount, p_id);
		END IF;
		PERFORM cd_history(e.complaint_id, p_uid, 'resolved', coalesce(e.resolution, ''));
		st := 'resolved';
	ELSIF e.requested_by IS NULL THEN
		st := c.state;   -- automatic escalations leave the complaint as it is
	ELSE
		st := cd_unescalate(e.complaint_id);
	END IF;
	RETURN NEXT cd_ok('state', 'approved', 'complaint_state', st);
END $$;

CREATE FUNCTION cd_escalation_withdraw(p_uid bigint, p_role text, p_id bigint)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	e escalations;
BEGIN
	SELECT * INTO e FROM escalations WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NEXT cd_no('not-found', 'no such escalation');
		RETURN;
	END IF;
	IF e.requested_by IS DISTINCT FROM p_uid THEN
		RETURN NEXT cd_no('forbidden', 'only the requester may withdraw it');
		RETURN;
	END IF;
	IF e.state <> 'pending' THEN
		RETURN NEXT cd_no('invalid-state', 'the escalation is ' || e.state);
		RETURN;
	END IF;
	PERFORM 1 FROM complaints WHERE id = e.complaint_id FOR UPDATE;
	UPDATE escalations SET state = 'withdrawn', decided_by = p_uid, decided_at = now()
	 WHERE id = p_id;
	PERFORM cd_decision(p_uid, 'withdraw', e.complaint_id, p_id, e.rule, e.action, e.amount, '{}');
	PERFORM cd_history(e.complaint_id, p_uid, 'withdrawn', '');
	PERFORM cd_unescalate(e.complaint_id);
	RETURN NEXT cd_ok('state', 'withdrawn');
END $$;

-- ESCALATION RAISE: to the next level the server computed from the chain
-- at p_level (NULL approver: already at the top), or to an explicit one.
CREATE FUNCTION cd_escalation_raise(p_uid bigint, p_role text, p_id bigint, p_level integer,
                                    p_approver text, p_new_level integer, p_due_s integer,
                                    p_reason text, p_missing text)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	e escalations;
BEGIN
	SELECT * INTO e FROM escalations WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NEXT cd_no('not-found', 'no such escalation');
		RETURN;
	END IF;
	IF p_missing IS NOT NULL OR (split_part(p_approver, ':', 1) = 'user' AND NOT EXISTS
	   (SELECT 1 FROM users WHERE name = split_part(p_approver, ':', 2))) THEN
		RETURN NEXT cd_no('not-found', coalesce(p_missing, 'no such user'));
		RETURN;
	END IF;
	IF NOT cd_names(e.approver, p_uid) AND NOT cd_is_sup(p_role)
	   AND e.requested_by IS DISTINCT FROM p_uid THEN
		RETURN NEXT cd_no('forbidden', 'this escalation waits on ' || e.approver);
		RETURN;
	END IF;
	IF e.state <> 'pending' THEN
		RETURN NEXT cd_no('invalid-state', 'the escalation is ' || e.state);
		RETURN;
	END IF;
	IF p_approver IS NULL OR e.level <> p_level THEN
		IF p_approver IS NULL THEN
			RETURN NEXT cd_no('invalid-state', 'the escalation is at the top of its chain');
		ELSE
			RETURN NEXT ROW('RETRY', '{}'::text[])::cd_line;
		END IF;
		RETURN;
	END IF;
	UPDATE escalations
	   SET approver = p_approver, level = p_new_level,
	       due = now() + make_interval(secs => p_due_s), top_overdue_at = NULL
	 WHERE id = p_id
	RETURNING * INTO e;
	PERFORM cd_decision(p_uid, 'raise', e.complaint_id, p_id, e.rule, e.action, e.amount,
	                    jsonb_build_object('level', e.level, 'approver', e.approver));
	PERFORM cd_history(e.complaint_id, p_uid, 'escalated',
	                   'raised to ' || p_approver || coalesce(': ' || nullif(p_reason, ''), ''));
	RETURN NEXT cd_ok('approver', e.approver, 'level', e.level::text, 'due', cd_ts(e.due));
END $$;

CREATE FUNCTION cd_justify(p_uid bigint, p_role text, p_id bigint, p_text text)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	c complaints;
BEGIN
	SELECT * INTO c FROM complaints WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NEXT cd_no('not-found', 'no such complaint');
		RETURN;
	END IF;
	IF c.resolved_by IS DISTINCT FROM p_uid AND NOT cd_is_sup(p_role) THEN
		RETURN NEXT cd_no('forbidden', 'only the agent who resolved it may justify it');
		RETURN;
	END IF;
	IF c.justify_by IS NULL OR c.justified_at IS NOT NULL THEN
		RETURN NEXT cd_no('invalid-state', 'no justification is owed on this complaint');
		RETURN;
	END IF;
	UPDATE complaints SET justified_at = now(), justify_text = p_text WHERE id = p_id;
	PERFORM cd_decision(p_uid, 'justify', p_id, NULL, 'justify-later', c.action, c.amount,
	                    jsonb_build_object('late', now() > c.justify_by));
	PERFORM cd_history(p_id, p_uid, 'justified', p_text);
	RETURN NEXT cd_ok();
END $$;

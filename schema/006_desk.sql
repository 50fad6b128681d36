-- 006_desk: hand-offs to departments, customer feedback, erasure.

CREATE FUNCTION cd_handoff_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	q text;
	personal text := '';
BEGIN
	IF TG_OP = 'UPDATE' AND NEW.state = OLD.state THEN
		RETURN NULL;
	END IF;
	SELECT queue INTO q FROM complaints WHERE id = NEW.complaint_id;
	-- The desk agent who opened it hears when it is acknowledged or done.
	IF TG_OP = 'UPDATE' THEN
		personal := cd_user_name(NEW.opened_by);
	END IF;
	PERFORM cd_notify(q, personal, 'type', 'handoff', 'handoff', NEW.id::text,
	                  'complaint', NEW.complaint_id::text, 'dept', NEW.dept,
	                  'state', NEW.state);
	RETURN NULL;
END $$;

CREATE TRIGGER handoffs_notify AFTER INSERT OR UPDATE ON handoffs
	FOR EACH ROW EXECUTE FUNCTION cd_handoff_notify();

-- p_within: the department's internal service level, from the rules;
-- NULL when the department is not in the rules.
CREATE FUNCTION cd_handoff_open(p_uid bigint, p_role text, p_complaint bigint,
                                p_dept text, p_request text, p_within integer)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	h handoffs;
BEGIN
	PERFORM 1 FROM complaints WHERE id = p_complaint FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NEXT cd_no('not-found', 'no such complaint');
		RETURN;
	END IF;
	IF p_within IS NULL THEN
		RETURN NEXT cd_no('not-found', 'no such department');
		RETURN;
	END IF;
	INSERT INTO handoffs (complaint_id, dept, request, due, opened_by)
	VALUES (p_complaint, p_dept, p_request, now() + make_interval(secs => p_within), p_uid)
	RETURNING * INTO h;
	PERFORM cd_history(p_complaint, p_uid, 'handoff', p_dept || ': ' || p_request);
	RETURN NEXT cd_ok('handoff', h.id::text, 'due', cd_ts(h.due));
END $$;

-- ACK and DONE, by members of the department.
CREATE FUNCTION cd_handoff_move(p_uid bigint, p_role text, p_id bigint, p_verb text,
                                p_result text)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	h handoffs;
BEGIN
	SELECT * INTO h FROM handoffs WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NEXT cd_no('not-found', 'no such hand-off');
		RETURN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM users WHERE id = p_uid AND dept = h.dept) THEN
		RETURN NEXT cd_no('forbidden', 'only members of ' || h.dept || ' may do this');
		RETURN;
	END IF;
	IF p_verb = 'ack' THEN
		IF h.state <> 'open' THEN
			RETURN NEXT cd_no('invalid-state', 'the hand-off is ' || h.state);
			RETURN;
		END IF;
		UPDATE handoffs SET state = 'acknowledged', acked_at = now() WHERE id = p_id;
		RETURN NEXT cd_ok('state', 'acknowledged');
	ELSE
		IF h.state <> 'acknowledged' THEN
			RETURN NEXT cd_no('invalid-state', 'acknowledge the hand-off first');
			RETURN;
		END IF;
		UPDATE handoffs SET state = 'done', done_at = now(), result = p_result WHERE id = p_id;
		PERFORM cd_history(h.complaint_id, p_uid, 'handoff', h.dept || ' done: ' || p_result);
		RETURN NEXT cd_ok('state', 'done');
	END IF;
END $$;

CREATE FUNCTION cd_handoff_rate(p_uid bigint, p_role text, p_id bigint, p_score integer,
                                p_comment text)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	h handoffs;
	c complaints;
BEGIN
	SELECT * INTO h FROM handoffs WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NEXT cd_no('not-found', 'no such hand-off');
		RETURN;
	END IF;
	SELECT * INTO c FROM complaints WHERE id = h.complaint_id;
	IF c.assignee_id IS DISTINCT FROM p_uid AND NOT cd_is_sup(p_role) THEN
		RETURN NEXT cd_no('forbidden', 'only the complaint''s assignee or a supervisor may rate');
		RETURN;
	END IF;
	IF h.state <> 'done' THEN
		RETURN NEXT cd_no('invalid-state', 'the hand-off is not done');
		RETURN;
	END IF;
	IF h.score IS NOT NULL THEN
		IF h.score = p_score AND h.comment IS NOT DISTINCT FROM coalesce(p_comment, '') THEN
			RETURN NEXT cd_ok();
		ELSE
			RETURN NEXT cd_no('exists', 'this hand-off was rated already');
		END IF;
		RETURN;
	END IF;
	UPDATE handoffs SET score = p_score, comment = coalesce(p_comment, ''), rated_at = now()
	 WHERE id = p_id;
	RETURN NEXT cd_ok();
END $$;

CREATE FUNCTION cd_handoff_list(p_uid bigint, p_role text, p_dept text, p_state text,
                                p_complaint bigint, p_limit integer, p_dept_missing boolean)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	n integer := 0;
	more boolean := false;
	r record;
BEGIN
	p_limit := coalesce(p_limit, 100);   -- the lists' default (PROTOCOL §8)
	IF p_dept_missing THEN
		RETURN NEXT cd_no('not-found', 'no such department');
		RETURN;
	END IF;
	IF p_complaint IS NOT NULL AND NOT EXISTS (SELECT 1 FROM complaints WHERE id = p_complaint) THEN
		RETURN NEXT cd_no('not-found', 'no such complaint');
		RETURN;
	END IF;
	FOR r IN
		SELECT * FROM handoffs h
		 WHERE (p_dept IS NULL OR h.dept = p_dept)
		   AND (p_state IS NULL OR h.state = p_state)
		   AND (p_complaint IS NULL OR h.complaint_id = p_complaint)
		 ORDER BY h.id
		 LIMIT p_limit + 1
	LOOP
		IF n = p_limit THEN
			more := true;
			EXIT;
		END IF;
		n := n + 1;
		RETURN NEXT ROW('ROW', ARRAY['handoff', r.id::text, 'complaint', r.complaint_id::text,
		                              'dept', r.dept, 'state', r.state, 'due', cd_ts(r.due),
		                              'score', coalesce(r.score::text, '')])::cd_line;
	END LOOP;
	RETURN NEXT cd_ok('count', n::text, 'more', cd_yn(more));
END $$;

CREATE FUNCTION cd_feedback(p_uid bigint, p_role text, p_complaint bigint, p_csat integer,
                            p_comment text)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	c complaints;
	f feedback;
BEGIN
	SELECT * INTO c FROM complaints WHERE id = p_complaint FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NEXT cd_no('not-found', 'no such complaint');
		RETURN;
	END IF;
	SELECT * INTO f FROM feedback WHERE complaint_id = p_complaint;
	IF FOUND THEN
		IF f.csat = p_csat AND f.comment = coalesce(p_comment, '') THEN
			RETURN NEXT cd_ok();
		ELSE
			RETURN NEXT cd_no('exists', 'feedback for this complaint was recorded already');
		END IF;
		RETURN;
	END IF;
	IF c.state NOT IN ('resolved', 'closed') THEN
		RETURN NEXT cd_no('invalid-state', 'feedback is for resolved complaints');
		RETURN;
	END IF;
	INSERT INTO feedback (complaint_id, csat, comment, by_id)
	VALUES (p_complaint, p_csat, coalesce(p_comment, ''), p_uid);
	PERFORM cd_history(p_complaint, p_uid, 'feedback', 'csat ' || p_csat);
	RETURN NEXT cd_ok();
END $$;

-- Replaces the customer's personal data and every free text of their
-- interactions and complaints by a tombstone. Ids, times, states,
-- categories, amounts and decisions stay, so figures and the audit trail
-- (which holds no personal data) are untouched. Erasing twice is harmless.
CREATE FUNCTION cd_customer_erase(p_uid bigint, p_role text, p_id bigint, p_reason text)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	tomb constant text := '[erased]';
BEGIN
	PERFORM 1 FROM customers WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NEXT cd_no('not-found', 'no such customer');
		RETURN;
	END IF;
	UPDATE customers
	   SET name = tomb, phone = NULL, email = NULL, ref = NULL,
	       erased_at = coalesce(erased_at, now())
	 WHERE id = p_id;
	UPDATE notes SET text = tomb
	 WHERE interaction_id IN (SELECT id FROM interactions WHERE customer_id = p_id)
	   AND text <> tomb;
	UPDATE complaints
	   SET summary = tomb,
	       resolution = CASE WHEN resolution IS NULL THEN NULL ELSE tomb END,
	       justify_text = CASE WHEN justify_text IS NULL THEN NULL ELSE tomb END
	 WHERE customer_id = p_id;
	UPDATE complaint_history SET text = tomb
	 WHERE complaint_id IN (SELECT id FROM complaints WHERE customer_id = p_id)
	   AND event <> 'assigned' AND text <> '' AND text <> tomb;
	UPDATE escalations
	   SET resolution = CASE WHEN resolution IS NULL THEN NULL ELSE tomb END,
	       reason = CASE WHEN reason = '' THEN '' ELSE tomb END,
	       note = CASE WHEN note IS NULL THEN NULL ELSE tomb END
	 WHERE complaint_id IN (SELECT id FROM complaints WHERE customer_id = p_id);
	UPDATE feedback SET comment = CASE WHEN comment = '' THEN '' ELSE tomb END
	 WHERE complaint_id IN (SELECT id FROM complaints WHERE customer_id = p_id);
	UPDATE handoffs
	   SET request = tomb,
	       result = CASE WHEN result IS NULL THEN NULL ELSE tomb END,
	       comment = CASE WHEN comment IS NULL OR comment = '' THEN comment ELSE tomb END
	 WHERE complaint_id IN (SELECT id FROM complaints WHERE customer_id = p_id);
	-- Follow-up notes (011) and stored answers that quote the complaints
	-- (a NEXT answer holds the summary) go too.
	IF to_regclass('followups') IS NOT NULL THEN
		EXECUTE 'UPDATE followups SET note = $2 WHERE note IS NOT NULL AND note <> $2
		           AND complaint_id IN (SELECT id FROM complaints WHERE customer_id = $1)'
		USING p_id, tomb;
	END IF;
	DELETE FROM idem_keys k
	 WHERE k.response IS NOT NULL
	   AND EXISTS (SELECT 1 FROM complaints c WHERE c.customer_id = p_id
	                 AND k.response ~ ('(^| )complaint=' || c.id || '( |$)'));
	INSERT INTO erasures (customer_id, by_id, reason) VALUES (p_id, p_uid, p_reason);
	RETURN NEXT cd_ok();
END $$;

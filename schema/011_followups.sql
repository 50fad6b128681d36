-- 011_followups: the desk reaching out first. A resolution may schedule a
-- callback to the customer after the configured time (COMPLAINT RESOLVE
-- followup=yes, or any callback action); when it falls due it is pushed to
-- the agent and listed in FOLLOWUP LIST like waiting work.

CREATE TABLE followups (
	id           bigserial PRIMARY KEY,
	complaint_id bigint NOT NULL REFERENCES complaints (id),
	agent_id     bigint NOT NULL REFERENCES users (id),
	due          timestamptz NOT NULL,
	state        text NOT NULL DEFAULT 'scheduled'
	             CHECK (state IN ('scheduled', 'done')),
	outcome      text CHECK (outcome IN ('reached', 'no-answer', 'left-message', 'declined')),
	note         text,
	notified_at  timestamptz,
	done_at      timestamptz,
	created_at   timestamptz NOT NULL DEFAULT now(),
	CHECK ((state = 'done') = (done_at IS NOT NULL))
);
CREATE INDEX followups_agent_due ON followups (agent_id, due) WHERE state = 'scheduled';

-- Scheduled after an allowed resolution (see cd_resolve in 008).
CREATE FUNCTION cd_followup_schedule(p_complaint bigint, p_agent bigint, p_after integer)
RETURNS void LANGUAGE sql AS $$
	INSERT INTO followups (complaint_id, agent_id, due)
	VALUES (p_complaint, p_agent, now() + make_interval(secs => p_after))
$$;

CREATE FUNCTION cd_followup_list(p_uid bigint, p_role text, p_mine boolean, p_due boolean,
                                 p_limit integer)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	n integer := 0;
	more boolean := false;
	r record;
BEGIN
	FOR r IN
		SELECT f.*, c.customer_id FROM followups f JOIN complaints c ON c.id = f.complaint_id
		 WHERE f.state = 'scheduled'
		   AND (NOT coalesce(p_due, false) OR f.due <= now())
		   AND ((NOT coalesce(p_mine, false) AND cd_is_sup(p_role)) OR f.agent_id = p_uid)
		 ORDER BY f.due, f.id
		 LIMIT coalesce(p_limit, 100) + 1
	LOOP
		IF n = coalesce(p_limit, 100) THEN
			more := true;
			EXIT;
		END IF;
		n := n + 1;
		RETURN NEXT ROW('ROW', ARRAY['followup', r.id::text, 'complaint', r.complaint_id::text,
		                              'customer', r.customer_id::text,
		                              'agent', cd_user_name(r.agent_id), 'due', cd_ts(r.due),
		                              'state', r.state])::cd_line;
	END LOOP;
	RETURN NEXT cd_ok('count', n::text, 'more', cd_yn(more));
END $$;

CREATE FUNCTION cd_followup_done(p_uid bigint, p_role text, p_id bigint, p_outcome text,
                                 p_note text)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	f followups;
BEGIN
	SELECT * INTO f FROM followups WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NEXT cd_no('not-found', 'no such follow-up');
		RETURN;
	END IF;
	IF f.agent_id <> p_uid AND NOT cd_is_sup(p_role) THEN
		RETURN NEXT cd_no('forbidden', 'this follow-up is another agent''s');
		RETURN;
	END IF;
	IF f.state <> 'scheduled' THEN
		RETURN NEXT cd_no('invalid-state', 'this follow-up is done');
		RETURN;
	END IF;
	UPDATE followups SET state = 'done', outcome = p_outcome, note = p_note, done_at = now()
	 WHERE id = p_id;
	PERFORM cd_history(f.complaint_id, p_uid, 'note',
	                   'follow-up call: ' || p_outcome || coalesce(': ' || nullif(p_note, ''), ''));
	RETURN NEXT cd_ok('state', 'done');
END $$;

-- Due follow-ups are pushed once to their agent (called by the sweep).
CREATE FUNCTION cd_followup_sweep(p_limit integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	n integer := 0;
	r record;
BEGIN
	FOR r IN UPDATE followups SET notified_at = now()
	          WHERE id IN (SELECT id FROM followups
	                        WHERE state = 'scheduled' AND notified_at IS NULL AND due <= now()
	                        ORDER BY due LIMIT p_limit FOR UPDATE SKIP LOCKED)
	          RETURNING id, complaint_id, agent_id, due LOOP
		PERFORM cd_notify('', cd_user_name(r.agent_id), 'type', 'followup',
		                  'followup', r.id::text, 'complaint', r.complaint_id::text,
		                  'due', cd_ts(r.due));
		n := n + 1;
	END LOOP;
	RETURN n;
END $$;

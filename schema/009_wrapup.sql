-- 009_wrapup: wrap-up after an interaction. An agent who was ready when an
-- interaction ended goes to wrap-up; the sweep puts them back to ready
-- after the configured time, unless they chose another state meanwhile.

DROP FUNCTION cd_interaction_end(bigint, text, bigint, text);

CREATE FUNCTION cd_interaction_end(p_uid bigint, p_role text, p_id bigint, p_outcome text,
                                   p_wrap_up integer)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	i interactions;
	t timestamptz := now();
BEGIN
	SELECT * INTO i FROM interactions WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NEXT cd_no('not-found', 'no such interaction');
		RETURN;
	END IF;
	IF i.agent_id <> p_uid AND NOT cd_is_sup(p_role) THEN
		RETURN NEXT cd_no('forbidden', 'this interaction is another agent''s');
		RETURN;
	END IF;
	IF i.ended_at IS NOT NULL THEN
		RETURN NEXT cd_no('invalid-state', 'this interaction has ended');
		RETURN;
	END IF;
	UPDATE interactions SET ended_at = t, outcome = p_outcome WHERE id = p_id;
	IF coalesce(p_wrap_up, 0) > 0 AND EXISTS
	   (SELECT 1 FROM agent_state WHERE user_id = i.agent_id AND state = 'ready') THEN
		PERFORM cd_state_change(i.agent_id, 'wrap-up', 'after-call');
	END IF;
	RETURN NEXT cd_ok('duration', floor(extract(epoch FROM t - i.started_at))::bigint::text);
END $$;

-- Agents whose automatic wrap-up is over become ready again.
CREATE FUNCTION cd_wrapup_sweep(p_wrap_up integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	n integer := 0;
	u bigint;
BEGIN
	IF coalesce(p_wrap_up, 0) <= 0 THEN
		RETURN 0;
	END IF;
	FOR u IN SELECT user_id FROM agent_state
	          WHERE state = 'wrap-up' AND reason = 'after-call'
	            AND since <= now() - make_interval(secs => p_wrap_up)
	          FOR UPDATE SKIP LOCKED LOOP
		PERFORM cd_state_change(u, 'ready', '');
		n := n + 1;
	END LOOP;
	RETURN n;
END $$;

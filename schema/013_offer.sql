-- 013_offer: the server offers work (offer_work = yes). Waiting complaints
-- are assigned to ready agents by the server itself, the agent idle longest
-- first, in NEXT's order, within each agent's skills and capacity; the
-- assignment reaches the agent as a complaint event (cd_complaint_notify:
-- assigned by someone else). NEXT and the offer pick the same way
-- (cd_pick), so both honour severity, aging, VIP, deadline and wait.

-- When the agent last got a complaint (NEXT, ASSIGN, TAKE, an offer): with
-- agent_state.since, how long they have been idle.
ALTER TABLE agent_state ADD COLUMN last_assigned timestamptz;

CREATE FUNCTION cd_note_assignment() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.assignee_id IS NOT NULL
	   AND (TG_OP = 'INSERT' OR NEW.assignee_id IS DISTINCT FROM OLD.assignee_id) THEN
		UPDATE agent_state SET last_assigned = now() WHERE user_id = NEW.assignee_id;
	END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER complaints_note_assignment
	AFTER INSERT OR UPDATE OF assignee_id ON complaints
	FOR EACH ROW EXECUTE FUNCTION cd_note_assignment();

-- What an agent may hold at once: their own capacity, else their tier's
-- from the rules (p_tiers/p_caps), else p_default.
CREATE FUNCTION cd_capacity(p_capacity integer, p_tier integer, p_tiers integer[],
                            p_caps integer[], p_default integer)
RETURNS integer LANGUAGE sql IMMUTABLE AS $$
	SELECT coalesce(p_capacity, p_caps[array_position(p_tiers, p_tier)], p_default)
$$;

CREATE FUNCTION cd_held(p_uid bigint) RETURNS integer
LANGUAGE sql STABLE AS $$
	SELECT count(*)::integer FROM complaints
	 WHERE assignee_id = p_uid AND state IN ('assigned', 'waiting', 'escalated')
$$;

-- The best waiting complaint for these skills, locked for the caller's
-- transaction; NULL when none is free. The best few by NEXT's order (a
-- cheap top-N sort), then the first of them not locked by an agent racing
-- on any node; only when all of those are taken, the whole queue again.
CREATE FUNCTION cd_pick(p_skills text[], p_aging integer, p_from text[])
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	cid bigint;
BEGIN
	SELECT w.id INTO cid
	  FROM complaints w JOIN customers cu ON cu.id = w.customer_id
	 WHERE w.id IN (SELECT c2.id FROM complaints c2 JOIN customers cu2 ON cu2.id = c2.customer_id
	                 WHERE c2.state = ANY (p_from)
	                   AND (c2.queue = ANY (p_skills) OR c2.category = ANY (p_skills))
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
		   AND (c2.queue = ANY (p_skills) OR c2.category = ANY (p_skills))
		 ORDER BY cd_next_rank(c2.severity, c2.queued_at, p_aging),
		          cu.vip DESC, c2.resolve_by, c2.queued_at, c2.id
		 LIMIT 1
		 FOR UPDATE OF c2 SKIP LOCKED;
	END IF;
	RETURN cid;
END $$;

CREATE OR REPLACE FUNCTION cd_next(p_uid bigint, p_role text, p_skills text, p_capacity integer,
                                   p_aging integer, p_from text[])
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	skills text[] := CASE WHEN coalesce(p_skills, '') = '' THEN '{}'::text[]
	                      ELSE string_to_array(p_skills, ',') END;
	held integer;
	cid bigint;
	c complaints;
BEGIN
	-- The agent's row locked first (as cd_offer does): the count of what
	-- they hold below cannot move under an offer round meanwhile.
	PERFORM 1 FROM agent_state WHERE user_id = p_uid AND state = 'ready' FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NEXT cd_no('invalid-state', 'set your state to ready first');
		RETURN;
	END IF;
	cid := cd_pick(skills, p_aging, p_from);
	IF cid IS NULL THEN
		RETURN NEXT cd_no('empty', 'no complaint waits for your skills');
		RETURN;
	END IF;
	held := cd_held(p_uid);
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

-- One round of offers: every ready agent below capacity with a connection
-- open on some node, the one idle longest first (since they became ready
-- or last got a complaint), gets the best complaint for their skills, at
-- most p_max in all. Agents and complaints another node is offering at
-- the same moment are skipped (SKIP LOCKED), so nothing is offered twice;
-- agents at capacity are left out before their rows are locked, so a round
-- does not hold up their own requests. Returns how many were offered.
CREATE FUNCTION cd_offer(p_aging integer, p_from text[], p_tiers integer[],
                         p_caps integer[], p_default integer, p_max integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	a record;
	cid bigint;
	held integer;
	cap integer;
	n integer := 0;
BEGIN
	FOR a IN
		SELECT u.id, u.skills, u.capacity, u.tier
		  FROM agent_state s JOIN users u ON u.id = s.user_id
		 WHERE s.state = 'ready' AND u.enabled AND u.role IN ('agent', 'supervisor')
		   AND cardinality(u.skills) > 0
		   AND EXISTS (SELECT 1 FROM presence p WHERE p.user_id = u.id)
		   AND cd_held(u.id) < cd_capacity(u.capacity, u.tier, p_tiers, p_caps, p_default)
		 ORDER BY greatest(s.since, coalesce(s.last_assigned, s.since)), s.user_id
		 FOR UPDATE OF s SKIP LOCKED
	LOOP
		EXIT WHEN n >= p_max;
		-- Again under the lock: a NEXT may have committed meanwhile.
		cap := cd_capacity(a.capacity, a.tier, p_tiers, p_caps, p_default);
		held := cd_held(a.id);
		CONTINUE WHEN held >= cap;
		cid := cd_pick(a.skills, p_aging, p_from);
		CONTINUE WHEN cid IS NULL;
		-- No actor: the assignment is pushed to the agent.
		PERFORM set_config('calldesk.actor', '0', true);
		UPDATE complaints SET state = 'assigned', assignee_id = a.id WHERE id = cid;
		PERFORM cd_history(cid, NULL, 'assigned', 'offered');
		n := n + 1;
	END LOOP;
	RETURN n;
END $$;

-- 002_api: the statements behind the verbs. Each verb is one function call
-- (one round trip, one transaction). A function returns the protocol lines
-- of its answer as rows of cd_line: kind ('ROW', 'OK', 'NO') and an array
-- of alternating keys and values; the server renders and quotes them.
-- Checks that need only the request are done by the server before the
-- call; these functions check existence, authority and state, in that
-- order, and change nothing before answering NO.
-- Every function takes the caller's user id ($1) and role ($2) first.

CREATE TYPE cd_line AS (kind text, kv text[]);

CREATE FUNCTION cd_ts(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- Money in minor units as text with the deployment's minor digits, which
-- the server sets per connection (calldesk.minor_digits).
CREATE FUNCTION cd_money(m bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	d integer := coalesce(nullif(current_setting('calldesk.minor_digits', true), ''), '2')::integer;
	unit bigint := (10::numeric ^ d)::bigint;
BEGIN
	IF m IS NULL THEN
		RETURN NULL;
	END IF;
	IF d = 0 THEN
		RETURN m::text;
	END IF;
	RETURN CASE WHEN m < 0 THEN '-' ELSE '' END
		|| (abs(m) / unit)::text || '.' || lpad((abs(m) % unit)::text, d, '0');
END $$;

CREATE FUNCTION cd_yn(b boolean) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN b THEN 'yes' ELSE 'no' END $$;

CREATE FUNCTION cd_no(code text, msg text) RETURNS cd_line
LANGUAGE sql IMMUTABLE AS $$ SELECT ROW('NO', ARRAY['code', code, 'msg', msg])::cd_line $$;

CREATE FUNCTION cd_ok(VARIADIC kv text[] DEFAULT '{}') RETURNS cd_line
LANGUAGE sql IMMUTABLE AS $$ SELECT ROW('OK', kv)::cd_line $$;

CREATE FUNCTION cd_is_sup(role text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$ SELECT role IN ('supervisor', 'admin') $$;

CREATE FUNCTION cd_user_name(uid bigint) RETURNS text
LANGUAGE sql STABLE AS $$ SELECT coalesce((SELECT name FROM users WHERE id = uid), 'system') $$;

-- ---- idempotency keys ------------------------------------------------

-- Claims (user, key) for this transaction. 'new': go on; 'replay': the
-- stored answer is in response; 'conflict': the key was used for another
-- request. An INSERT racing with an uncommitted one for the same key waits
-- for it, so a retry sent while the first is in flight gets its outcome.
CREATE FUNCTION cd_idem_claim(p_uid bigint, p_key text, p_hash text,
                              OUT status text, OUT response text)
LANGUAGE plpgsql AS $$
DECLARE
	h text;
BEGIN
	DELETE FROM idem_keys
	 WHERE user_id = p_uid AND key = p_key
	   AND created_at < now() - interval '24 hours';
	INSERT INTO idem_keys (user_id, key, req_hash) VALUES (p_uid, p_key, p_hash)
	ON CONFLICT DO NOTHING;
	IF FOUND THEN
		status := 'new';
		RETURN;
	END IF;
	SELECT k.req_hash, k.response INTO h, response
	  FROM idem_keys k WHERE k.user_id = p_uid AND k.key = p_key;
	IF h IS DISTINCT FROM p_hash OR response IS NULL THEN
		status := 'conflict';
		response := NULL;
	ELSE
		status := 'replay';
	END IF;
END $$;

CREATE FUNCTION cd_idem_store(p_uid bigint, p_key text, p_response text)
RETURNS void LANGUAGE sql AS $$
	UPDATE idem_keys SET response = p_response WHERE user_id = p_uid AND key = p_key
$$;

-- ---- agent state and presence ----------------------------------------

-- Moves a user to a state, closing the open state_log entry.
CREATE FUNCTION cd_state_change(p_uid bigint, p_state text, p_reason text)
RETURNS timestamptz LANGUAGE plpgsql AS $$
DECLARE
	t timestamptz := now();
BEGIN
	UPDATE state_log SET ended_at = t WHERE user_id = p_uid AND ended_at IS NULL;
	INSERT INTO state_log (user_id, state, reason, started_at)
	VALUES (p_uid, p_state, coalesce(p_reason, ''), t);
	INSERT INTO agent_state (user_id, state, reason, since)
	VALUES (p_uid, p_state, coalesce(p_reason, ''), t)
	ON CONFLICT (user_id) DO UPDATE
	   SET state = EXCLUDED.state, reason = EXCLUDED.reason, since = EXCLUDED.since;
	RETURN t;
END $$;

-- A node starts: its earlier connections are gone.
CREATE FUNCTION cd_node_reset(p_node text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	u bigint;
BEGIN
	FOR u IN DELETE FROM presence WHERE node = p_node RETURNING user_id LOOP
		IF NOT EXISTS (SELECT 1 FROM presence WHERE user_id = u) THEN
			PERFORM cd_state_change(u, 'offline', '');
		END IF;
	END LOOP;
END $$;

-- After a verified LOGIN: count the connection; an offline user becomes
-- not-ready. Answers the LOGIN line.
CREATE FUNCTION cd_session_start(p_uid bigint, p_node text, p_currency text)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	u users;
BEGIN
	INSERT INTO presence (node, user_id, conns) VALUES (p_node, p_uid, 1)
	ON CONFLICT (node, user_id) DO UPDATE SET conns = presence.conns + 1;
	IF NOT EXISTS (SELECT 1 FROM agent_state WHERE user_id = p_uid AND state <> 'offline') THEN
		PERFORM cd_state_change(p_uid, 'not-ready', '');
	END IF;
	SELECT * INTO u FROM users WHERE id = p_uid;
	RETURN NEXT cd_ok('user', u.name, 'role', u.role, 'tier', u.tier::text,
	                  'skills', array_to_string(u.skills, ','),
	                  'team', coalesce(u.team, ''), 'currency', p_currency);
END $$;

CREATE FUNCTION cd_session_end(p_uid bigint, p_node text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE presence SET conns = conns - 1
	 WHERE node = p_node AND user_id = p_uid AND conns > 1;
	IF NOT FOUND THEN
		DELETE FROM presence WHERE node = p_node AND user_id = p_uid;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM presence WHERE user_id = p_uid) THEN
		PERFORM cd_state_change(p_uid, 'offline', '');
	END IF;
END $$;

CREATE FUNCTION cd_activity(p_uid bigint) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN EXISTS (SELECT 1 FROM interactions
	                          WHERE agent_id = p_uid AND ended_at IS NULL)
	            THEN 'in-interaction' ELSE 'idle' END
$$;

CREATE FUNCTION cd_state_get(p_uid bigint, p_role text)
RETURNS SETOF cd_line LANGUAGE sql AS $$
	SELECT cd_ok('state', s.state, 'activity', cd_activity(p_uid),
	             'since', cd_ts(s.since), 'reason', s.reason)
	  FROM agent_state s WHERE s.user_id = p_uid
	UNION ALL
	SELECT cd_ok('state', 'offline', 'activity', 'idle', 'since', cd_ts(now()), 'reason', '')
	 WHERE NOT EXISTS (SELECT 1 FROM agent_state WHERE user_id = p_uid)
$$;

CREATE FUNCTION cd_state_set(p_uid bigint, p_role text, p_state text, p_reason text)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	t timestamptz;
BEGIN
	SELECT since INTO t FROM agent_state
	 WHERE user_id = p_uid AND state = p_state AND reason = coalesce(p_reason, '');
	IF NOT FOUND THEN
		t := cd_state_change(p_uid, p_state, p_reason);
	END IF;
	RETURN NEXT cd_ok('state', p_state, 'since', cd_ts(t));
END $$;

-- ---- users -----------------------------------------------------------

-- p_notfound: set by the server when the tier or a skill is not in the
-- rules (the message to send), checked here so that it comes after the
-- database and idempotency checks.
CREATE FUNCTION cd_user_add(p_uid bigint, p_role text, p_name text, p_newrole text,
                            p_tier integer, p_skills text, p_team text, p_dept text,
                            p_capacity integer, p_hash text, p_notfound text)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	nid bigint;
BEGIN
	IF p_notfound IS NOT NULL THEN
		RETURN NEXT cd_no('not-found', p_notfound);
		RETURN;
	END IF;
	INSERT INTO users (name, role, tier, skills, team, dept, capacity, pw_hash)
	VALUES (p_name, p_newrole, coalesce(p_tier, 1),
	        CASE WHEN coalesce(p_skills, '') = '' THEN '{}'::text[] ELSE string_to_array(p_skills, ',') END,
	        nullif(p_team, ''), nullif(p_dept, ''), p_capacity, p_hash)
	ON CONFLICT (name) DO NOTHING
	RETURNING id INTO nid;
	IF nid IS NULL THEN
		RETURN NEXT cd_no('exists', 'a user with this name exists');
		RETURN;
	END IF;
	INSERT INTO agent_state (user_id) VALUES (nid);
	RETURN NEXT cd_ok('user', p_name);
END $$;

CREATE FUNCTION cd_user_set(p_uid bigint, p_role text, p_name text, p_tier integer,
                            p_skills text, p_team text, p_dept text, p_capacity integer,
                            p_enabled boolean, p_hash text, p_notfound text)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	target bigint;
BEGIN
	SELECT id INTO target FROM users WHERE name = p_name FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NEXT cd_no('not-found', 'no such user');
		RETURN;
	END IF;
	IF p_notfound IS NOT NULL THEN
		RETURN NEXT cd_no('not-found', p_notfound);
		RETURN;
	END IF;
	UPDATE users SET
		tier = coalesce(p_tier, tier),
		skills = CASE WHEN p_skills IS NULL THEN skills
		              WHEN p_skills = '' THEN '{}'::text[]
		              ELSE string_to_array(p_skills, ',') END,
		team = CASE WHEN p_team IS NULL THEN team ELSE nullif(p_team, '') END,
		dept = CASE WHEN p_dept IS NULL THEN dept ELSE nullif(p_dept, '') END,
		capacity = coalesce(p_capacity, capacity),
		enabled = coalesce(p_enabled, enabled),
		pw_hash = coalesce(p_hash, pw_hash)
	 WHERE id = target;
	RETURN NEXT cd_ok();
END $$;

-- ---- customers -------------------------------------------------------

CREATE TABLE customer_changes (
	id           bigserial PRIMARY KEY,
	customer_id  bigint NOT NULL REFERENCES customers (id),
	at           timestamptz NOT NULL DEFAULT now(),
	by_id        bigint NOT NULL REFERENCES users (id),
	fields       text NOT NULL      -- names of the fields changed, never values
);
CREATE INDEX customer_changes_customer ON customer_changes (customer_id, id);

CREATE FUNCTION cd_customer_add(p_uid bigint, p_role text, p_name text, p_phone text,
                                p_email text, p_vip boolean, p_ref text)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	cid bigint;
BEGIN
	INSERT INTO customers (name, phone, email, vip, ref, created_by)
	VALUES (p_name, nullif(p_phone, ''), nullif(p_email, ''), coalesce(p_vip, false),
	        nullif(p_ref, ''), p_uid)
	RETURNING id INTO cid;
	RETURN NEXT cd_ok('customer', cid::text);
END $$;

CREATE FUNCTION cd_goodwill_30d(p_customer bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT coalesce(sum(amount), 0)::bigint FROM grants
	 WHERE customer_id = p_customer AND at > now() - interval '30 days'
$$;

CREATE FUNCTION cd_customer_get(p_uid bigint, p_role text, p_id bigint)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	c customers;
BEGIN
	SELECT * INTO c FROM customers WHERE id = p_id;
	IF NOT FOUND THEN
		RETURN NEXT cd_no('not-found', 'no such customer');
		RETURN;
	END IF;
	RETURN NEXT cd_ok('customer', c.id::text, 'name', c.name,
	                  'phone', coalesce(c.phone, ''), 'email', coalesce(c.email, ''),
	                  'vip', cd_yn(c.vip), 'ref', coalesce(c.ref, ''),
	                  'open_complaints', (SELECT count(*) FROM complaints
	                                       WHERE customer_id = c.id
	                                         AND state NOT IN ('resolved', 'closed'))::text,
	                  'goodwill_30d', cd_money(cd_goodwill_30d(c.id)));
END $$;

CREATE FUNCTION cd_customer_set(p_uid bigint, p_role text, p_id bigint, p_name text,
                                p_phone text, p_email text, p_vip boolean, p_ref text)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	c customers;
	changed text[] := '{}';
BEGIN
	SELECT * INTO c FROM customers WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NEXT cd_no('not-found', 'no such customer');
		RETURN;
	END IF;
	IF c.erased_at IS NOT NULL THEN
		RETURN NEXT cd_no('invalid-state', 'this customer was erased');
		RETURN;
	END IF;
	IF p_name IS NOT NULL AND p_name IS DISTINCT FROM c.name THEN changed := array_append(changed, 'name'); END IF;
	IF p_phone IS NOT NULL AND nullif(p_phone, '') IS DISTINCT FROM c.phone THEN changed := array_append(changed, 'phone'); END IF;
	IF p_email IS NOT NULL AND nullif(p_email, '') IS DISTINCT FROM c.email THEN changed := array_append(changed, 'email'); END IF;
	IF p_vip IS NOT NULL AND p_vip IS DISTINCT FROM c.vip THEN changed := array_append(changed, 'vip'); END IF;
	IF p_ref IS NOT NULL AND nullif(p_ref, '') IS DISTINCT FROM c.ref THEN changed := array_append(changed, 'ref'); END IF;
	UPDATE customers SET
		name = coalesce(p_name, name),
		phone = CASE WHEN p_phone IS NULL THEN phone ELSE nullif(p_phone, '') END,
		email = CASE WHEN p_email IS NULL THEN email ELSE nullif(p_email, '') END,
		vip = coalesce(p_vip, vip),
		ref = CASE WHEN p_ref IS NULL THEN ref ELSE nullif(p_ref, '') END
	 WHERE id = p_id;
	IF cardinality(changed) > 0 THEN
		INSERT INTO customer_changes (customer_id, by_id, fields)
		VALUES (p_id, p_uid, array_to_string(changed, ','));
	END IF;
	RETURN NEXT cd_ok();
END $$;

CREATE FUNCTION cd_customer_find(p_uid bigint, p_role text, p_phone text, p_email text,
                                 p_name text, p_ref text, p_limit integer)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	n integer := 0;
	more boolean := false;
	r record;
BEGIN
	p_limit := coalesce(p_limit, 100);   -- the lists' default (PROTOCOL §8)
	FOR r IN
		SELECT * FROM customers c
		 WHERE c.erased_at IS NULL
		   AND (p_phone IS NULL OR c.phone = p_phone)
		   AND (p_email IS NULL OR lower(c.email) = lower(p_email))
		   AND (p_ref IS NULL OR c.ref = p_ref)
		   AND (p_name IS NULL OR strpos(lower(c.name), lower(p_name)) > 0)
		 ORDER BY c.id
		 LIMIT p_limit + 1
	LOOP
		IF n = p_limit THEN
			more := true;
			EXIT;
		END IF;
		n := n + 1;
		RETURN NEXT ROW('ROW', ARRAY['customer', r.id::text, 'name', r.name,
		                              'phone', coalesce(r.phone, ''), 'email', coalesce(r.email, ''),
		                              'vip', cd_yn(r.vip)])::cd_line;
	END LOOP;
	RETURN NEXT cd_ok('count', n::text, 'more', cd_yn(more));
END $$;

-- ---- business hours ------------------------------------------------

-- start + secs of open time in the calendar (NULL: around the clock). A
-- calendar is {"tz": "Europe/Paris", "days": {"1": [[540, 1020]], ...},
-- "holidays": ["2026-12-25"]}, windows in minutes from local midnight,
-- days by ISO weekday (1 = Monday). Looks ahead at most two years.
CREATE FUNCTION cd_deadline(p_start timestamptz, p_secs bigint, p_cal jsonb)
RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
DECLARE
	tz text;
	remaining numeric := p_secs;
	t timestamptz := p_start;
	d date;
	w jsonb;
	ws timestamptz;
	we timestamptz;
	avail numeric;
BEGIN
	IF p_cal IS NULL THEN
		RETURN p_start + make_interval(secs => p_secs);
	END IF;
	tz := p_cal->>'tz';
	d := (t AT TIME ZONE tz)::date;
	FOR i IN 1..731 LOOP
		IF NOT (p_cal->'holidays') ? d::text THEN
			FOR w IN SELECT * FROM jsonb_array_elements(p_cal->'days'->(extract(isodow FROM d)::int::text)) LOOP
				ws := (d + make_interval(mins => (w->>0)::int)) AT TIME ZONE tz;
				we := (d + make_interval(mins => (w->>1)::int)) AT TIME ZONE tz;
				IF t < we THEN
					ws := greatest(ws, t);
					avail := extract(epoch FROM we - ws);
					IF remaining <= avail THEN
						RETURN ws + make_interval(secs => remaining);
					END IF;
					remaining := remaining - avail;
					t := we;
				END IF;
			END LOOP;
		END IF;
		d := d + 1;
		t := greatest(t, d::timestamp AT TIME ZONE tz);
	END LOOP;
	RETURN t + make_interval(secs => remaining);
END $$;

-- Open seconds between a and b in the calendar (b - a without one).
CREATE FUNCTION cd_open_seconds(p_a timestamptz, p_b timestamptz, p_cal jsonb)
RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE
	tz text;
	total numeric := 0;
	d date;
	w jsonb;
	ws timestamptz;
	we timestamptz;
BEGIN
	IF p_b <= p_a THEN
		RETURN 0;
	END IF;
	IF p_cal IS NULL THEN
		RETURN floor(extract(epoch FROM p_b - p_a))::bigint;
	END IF;
	tz := p_cal->>'tz';
	d := (p_a AT TIME ZONE tz)::date;
	WHILE d::timestamp AT TIME ZONE tz < p_b AND d <= (p_a AT TIME ZONE tz)::date + 731 LOOP
		IF NOT (p_cal->'holidays') ? d::text THEN
			FOR w IN SELECT * FROM jsonb_array_elements(p_cal->'days'->(extract(isodow FROM d)::int::text)) LOOP
				ws := greatest(p_a, (d + make_interval(mins => (w->>0)::int)) AT TIME ZONE tz);
				we := least(p_b, (d + make_interval(mins => (w->>1)::int)) AT TIME ZONE tz);
				IF we > ws THEN
					total := total + extract(epoch FROM we - ws);
				END IF;
			END LOOP;
		END IF;
		d := d + 1;
	END LOOP;
	RETURN floor(total)::bigint;
END $$;

-- ---- interactions ----------------------------------------------------

CREATE FUNCTION cd_complaint_resume_internal(p_complaint bigint, p_by bigint)
RETURNS timestamptz LANGUAGE plpgsql AS $$
DECLARE
	rb timestamptz;
BEGIN
	-- The resolve clock stopped while waiting: what was left of it then
	-- (in open time) starts again now.
	UPDATE complaints
	   SET state = 'assigned',
	       resolve_by = CASE WHEN calendar IS NULL
	                         THEN resolve_by + (now() - waiting_since)
	                         ELSE cd_deadline(now(), cd_open_seconds(waiting_since, resolve_by,
	                                                                 calendar), calendar) END,
	       waiting_since = NULL, waiting_until = NULL
	 WHERE id = p_complaint AND state = 'waiting'
	RETURNING resolve_by INTO rb;
	IF FOUND THEN
		INSERT INTO complaint_history (complaint_id, by_id, event, text)
		VALUES (p_complaint, p_by, 'resumed', '');
	END IF;
	RETURN rb;
END $$;

CREATE FUNCTION cd_interaction_start(p_uid bigint, p_role text, p_customer bigint,
                                     p_channel text, p_direction text, p_complaint bigint)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	iid bigint;
	t timestamptz;
	cust bigint;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM customers WHERE id = p_customer) THEN
		RETURN NEXT cd_no('not-found', 'no such customer');
		RETURN;
	END IF;
	IF p_complaint IS NOT NULL THEN
		SELECT customer_id INTO cust FROM complaints WHERE id = p_complaint FOR UPDATE;
		IF NOT FOUND THEN
			RETURN NEXT cd_no('not-found', 'no such complaint');
			RETURN;
		END IF;
		IF cust <> p_customer THEN
			RETURN NEXT cd_no('invalid-state', 'the complaint belongs to another customer');
			RETURN;
		END IF;
		-- A new contact on a complaint that waits on the customer resumes it.
		PERFORM cd_complaint_resume_internal(p_complaint, p_uid);
	END IF;
	INSERT INTO interactions (customer_id, complaint_id, channel, direction, agent_id)
	VALUES (p_customer, p_complaint, p_channel, p_direction, p_uid)
	RETURNING id, started_at INTO iid, t;
	RETURN NEXT cd_ok('interaction', iid::text, 'started', cd_ts(t));
END $$;

CREATE FUNCTION cd_interaction_note(p_uid bigint, p_role text, p_id bigint, p_text text)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	nid bigint;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM interactions WHERE id = p_id) THEN
		RETURN NEXT cd_no('not-found', 'no such interaction');
		RETURN;
	END IF;
	INSERT INTO notes (interaction_id, by_id, text) VALUES (p_id, p_uid, p_text)
	RETURNING id INTO nid;
	RETURN NEXT cd_ok('note', nid::text);
END $$;

CREATE FUNCTION cd_interaction_end(p_uid bigint, p_role text, p_id bigint, p_outcome text)
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
	RETURN NEXT cd_ok('duration', floor(extract(epoch FROM t - i.started_at))::bigint::text);
END $$;

CREATE FUNCTION cd_interaction_get(p_uid bigint, p_role text, p_id bigint)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	i interactions;
BEGIN
	SELECT * INTO i FROM interactions WHERE id = p_id;
	IF NOT FOUND THEN
		RETURN NEXT cd_no('not-found', 'no such interaction');
		RETURN;
	END IF;
	RETURN QUERY
		SELECT 'ROW'::text, ARRAY['note', n.id::text, 'at', cd_ts(n.at),
		                        'by', cd_user_name(n.by_id), 'text', n.text]
		  FROM notes n WHERE n.interaction_id = p_id ORDER BY n.id;
	RETURN NEXT cd_ok('interaction', i.id::text, 'customer', i.customer_id::text,
	                  'complaint', coalesce(i.complaint_id::text, ''),
	                  'channel', i.channel, 'direction', i.direction,
	                  'agent', cd_user_name(i.agent_id), 'started', cd_ts(i.started_at),
	                  'ended', coalesce(cd_ts(i.ended_at), ''),
	                  'outcome', coalesce(i.outcome, ''));
END $$;

-- ---- complaints ------------------------------------------------------

CREATE FUNCTION cd_history(p_complaint bigint, p_by bigint, p_event text, p_text text)
RETURNS void LANGUAGE sql AS $$
	INSERT INTO complaint_history (complaint_id, by_id, event, text)
	VALUES (p_complaint, p_by, p_event, coalesce(p_text, ''))
$$;

-- The final line of COMPLAINT GET, shared with NEXT.
CREATE FUNCTION cd_complaint_fields(c complaints) RETURNS text[]
LANGUAGE sql STABLE AS $$
	SELECT ARRAY['complaint', c.id::text, 'customer', c.customer_id::text,
	             'state', c.state, 'queue', c.queue, 'category', c.category,
	             'severity', c.severity::text,
	             'assignee', coalesce((SELECT name FROM users WHERE id = c.assignee_id), ''),
	             'respond_by', cd_ts(c.respond_by), 'resolve_by', cd_ts(c.resolve_by),
	             'summary', c.summary]
$$;

-- p_queue NULL: the category (or the named queue) is not in the rules;
-- p_missing names which, for the message.
CREATE FUNCTION cd_complaint_open(p_uid bigint, p_role text, p_customer bigint,
                                  p_category text, p_severity integer, p_summary text,
                                  p_interaction bigint, p_queue text,
                                  p_respond integer, p_resolve integer, p_missing text,
                                  p_calendar jsonb)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	c complaints;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM customers WHERE id = p_customer) THEN
		RETURN NEXT cd_no('not-found', 'no such customer');
		RETURN;
	END IF;
	IF p_missing IS NOT NULL THEN
		RETURN NEXT cd_no('not-found', p_missing);
		RETURN;
	END IF;
	IF p_interaction IS NOT NULL AND NOT EXISTS
	   (SELECT 1 FROM interactions WHERE id = p_interaction) THEN
		RETURN NEXT cd_no('not-found', 'no such interaction');
		RETURN;
	END IF;
	INSERT INTO complaints (customer_id, category, severity, queue, summary,
	                        respond_within, resolve_within, respond_by, resolve_by,
	                        calendar, created_by)
	VALUES (p_customer, p_category, p_severity, p_queue, p_summary, p_respond, p_resolve,
	        cd_deadline(now(), p_respond, p_calendar), cd_deadline(now(), p_resolve, p_calendar),
	        p_calendar, p_uid)
	RETURNING * INTO c;
	IF p_interaction IS NOT NULL THEN
		UPDATE interactions SET complaint_id = c.id
		 WHERE id = p_interaction AND complaint_id IS NULL;
	END IF;
	PERFORM cd_history(c.id, p_uid, 'opened', '');
	RETURN NEXT cd_ok('complaint', c.id::text, 'state', c.state, 'queue', c.queue,
	                  'respond_by', cd_ts(c.respond_by), 'resolve_by', cd_ts(c.resolve_by));
END $$;

CREATE FUNCTION cd_complaint_get(p_uid bigint, p_role text, p_id bigint)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	c complaints;
BEGIN
	SELECT * INTO c FROM complaints WHERE id = p_id;
	IF NOT FOUND THEN
		RETURN NEXT cd_no('not-found', 'no such complaint');
		RETURN;
	END IF;
	RETURN QUERY
		SELECT 'ROW'::text, ARRAY['at', cd_ts(h.at), 'by', cd_user_name(h.by_id),
		                        'event', h.event, 'text', h.text]
		  FROM complaint_history h WHERE h.complaint_id = p_id ORDER BY h.id;
	RETURN NEXT ROW('OK', cd_complaint_fields(c))::cd_line;
END $$;

-- p_queue_missing: the named queue is not in the rules.
CREATE FUNCTION cd_complaint_list(p_uid bigint, p_role text, p_state text, p_queue text,
                                  p_assignee text, p_customer bigint, p_limit integer,
                                  p_queue_missing boolean)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	aid bigint;
	n integer := 0;
	more boolean := false;
	r record;
BEGIN
	p_limit := coalesce(p_limit, 100);   -- the lists' default (PROTOCOL §8)
	IF p_queue_missing THEN
		RETURN NEXT cd_no('not-found', 'no such queue');
		RETURN;
	END IF;
	IF p_assignee IS NOT NULL THEN
		SELECT id INTO aid FROM users WHERE name = p_assignee;
		IF NOT FOUND THEN
			RETURN NEXT cd_no('not-found', 'no such user');
			RETURN;
		END IF;
	END IF;
	IF p_customer IS NOT NULL AND NOT EXISTS (SELECT 1 FROM customers WHERE id = p_customer) THEN
		RETURN NEXT cd_no('not-found', 'no such customer');
		RETURN;
	END IF;
	FOR r IN
		SELECT c.*, u.name AS assignee_name FROM complaints c
		  LEFT JOIN users u ON u.id = c.assignee_id
		 WHERE (p_state IS NULL OR c.state = p_state)
		   AND (p_queue IS NULL OR c.queue = p_queue)
		   AND (aid IS NULL OR c.assignee_id = aid)
		   AND (p_customer IS NULL OR c.customer_id = p_customer)
		 ORDER BY c.id
		 LIMIT p_limit + 1
	LOOP
		IF n = p_limit THEN
			more := true;
			EXIT;
		END IF;
		n := n + 1;
		RETURN NEXT ROW('ROW', ARRAY['complaint', r.id::text, 'state', r.state,
		                              'queue', r.queue, 'category', r.category,
		                              'severity', r.severity::text,
		                              'assignee', coalesce(r.assignee_name, ''),
		                              'customer', r.customer_id::text,
		                              'resolve_by', cd_ts(r.resolve_by)])::cd_line;
	END LOOP;
	RETURN NEXT cd_ok('count', n::text, 'more', cd_yn(more));
END $$;

CREATE FUNCTION cd_complaint_note(p_uid bigint, p_role text, p_id bigint, p_text text,
                                  p_reply boolean)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM complaints WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NEXT cd_no('not-found', 'no such complaint');
		RETURN;
	END IF;
	IF coalesce(p_reply, false) THEN
		UPDATE complaints SET replied_at = coalesce(replied_at, now()) WHERE id = p_id;
		PERFORM cd_history(p_id, p_uid, 'reply', p_text);
	ELSE
		PERFORM cd_history(p_id, p_uid, 'note', p_text);
	END IF;
	RETURN NEXT cd_ok();
END $$;

-- One move of the complaint state machine. The server's state table
-- (fsm.c) gives the states the move is allowed from (p_from) and whether
-- it needs the assignee or a supervisor (p_owner).
CREATE FUNCTION cd_complaint_move(p_uid bigint, p_role text, p_id bigint, p_verb text,
                                  p_from text[], p_owner boolean, p_text text,
                                  p_until timestamptz)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	c complaints;
	rb timestamptz;
BEGIN
	PERFORM set_config('calldesk.actor', p_uid::text, true);
	SELECT * INTO c FROM complaints WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NEXT cd_no('not-found', 'no such complaint');
		RETURN;
	END IF;
	IF p_owner AND c.assignee_id IS DISTINCT FROM p_uid AND NOT cd_is_sup(p_role) THEN
		RETURN NEXT cd_no('forbidden', 'only the assignee or a supervisor may do this');
		RETURN;
	END IF;
	IF NOT (c.state = ANY (p_from)) THEN
		RETURN NEXT cd_no('invalid-state', 'not allowed in state ' || c.state);
		RETURN;
	END IF;
	CASE p_verb
	WHEN 'take' THEN
		UPDATE complaints SET state = 'assigned', assignee_id = p_uid WHERE id = p_id;
		PERFORM cd_history(p_id, p_uid, 'assigned', '');
		RETURN NEXT cd_ok('state', 'assigned');
	WHEN 'wait' THEN
		UPDATE complaints SET state = 'waiting', waiting_since = now(), waiting_until = p_until
		 WHERE id = p_id;
		PERFORM cd_history(p_id, p_uid, 'waiting', p_text);
		RETURN NEXT cd_ok('state', 'waiting');
	WHEN 'resume' THEN
		rb := cd_complaint_resume_internal(p_id, p_uid);
		RETURN NEXT cd_ok('state', 'assigned', 'resolve_by', cd_ts(rb));
	WHEN 'reopen' THEN
		UPDATE complaints
		   SET state = 'reopened', assignee_id = NULL, replied_at = NULL,
		       reopened_count = reopened_count + 1,
		       respond_by = cd_deadline(now(), respond_within, calendar),
		       resolve_by = cd_deadline(now(), resolve_within, calendar),
		       queued_at = now()
		 WHERE id = p_id;
		PERFORM cd_history(p_id, p_uid, 'reopened', p_text);
		RETURN NEXT cd_ok('state', 'reopened');
	WHEN 'close' THEN
		IF c.replied_at IS NULL THEN
			RETURN NEXT cd_no('no-reply', 'the customer has not been answered (COMPLAINT NOTE reply=yes)');
			RETURN;
		END IF;
		IF EXISTS (SELECT 1 FROM handoffs WHERE complaint_id = p_id AND state <> 'done') THEN
			RETURN NEXT cd_no('open-handoff', 'a hand-off of this complaint is not done');
			RETURN;
		END IF;
		UPDATE complaints SET state = 'closed' WHERE id = p_id;
		PERFORM cd_history(p_id, p_uid, 'closed', '');
		RETURN NEXT cd_ok('state', 'closed');
	ELSE
		RAISE EXCEPTION 'unknown move %', p_verb;
	END CASE;
END $$;

-- ---- queues and departments ------------------------------------------

-- p_queues: the queues of the rules, in order; p_skillsets: for each, the
-- comma-separated names (the queue and its categories) that make an agent
-- skilled for it.
CREATE FUNCTION cd_queue_list(p_uid bigint, p_role text, p_queues text[], p_skillsets text[])
RETURNS SETOF cd_line LANGUAGE sql AS $$
	SELECT x.line FROM (
		SELECT q.ord, ROW('ROW', ARRAY[
			'queue', q.name,
			'waiting', (SELECT count(*) FROM complaints c
			             WHERE c.queue = q.name AND c.state IN ('new', 'reopened'))::text,
			'oldest_wait', coalesce((SELECT floor(extract(epoch FROM now() - min(c.queued_at)))::bigint
			                 FROM complaints c
			                WHERE c.queue = q.name AND c.state IN ('new', 'reopened')), 0)::text,
			'agents_ready', (SELECT count(*) FROM agent_state s JOIN users u ON u.id = s.user_id
			                  WHERE s.state = 'ready' AND u.enabled
			                    AND u.skills && string_to_array(p_skillsets[q.ord], ',')
			                    AND cd_activity(u.id) = 'idle')::text])::cd_line AS line
		  FROM unnest(p_queues) WITH ORDINALITY AS q(name, ord)
		UNION ALL
		SELECT 2147483647, cd_ok('count', cardinality(p_queues)::text)
	) x ORDER BY x.ord
$$;

CREATE FUNCTION cd_dept_list(p_uid bigint, p_role text, p_depts text[])
RETURNS SETOF cd_line LANGUAGE sql AS $$
	SELECT x.line FROM (
		SELECT d.ord, ROW('ROW', ARRAY[
			'dept', d.name,
			'members', (SELECT count(*) FROM users u WHERE u.dept = d.name AND u.enabled)::text,
			'open_handoffs', (SELECT count(*) FROM handoffs h
			                   WHERE h.dept = d.name AND h.state <> 'done')::text])::cd_line AS line
		  FROM unnest(p_depts) WITH ORDINALITY AS d(name, ord)
		UNION ALL
		SELECT 2147483647, cd_ok('count', cardinality(p_depts)::text)
	) x ORDER BY x.ord
$$;

CREATE FUNCTION cd_password_set(p_uid bigint, p_role text, p_hash text)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
BEGIN
	UPDATE users SET pw_hash = p_hash WHERE id = p_uid;
	RETURN NEXT cd_ok();
END $$;

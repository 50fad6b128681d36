-- 014_accounts: account changes reach every node safely, and a login
-- sees the account as it is when the session starts.
--
-- USER SET tells the other nodes in its own transaction (the notification
-- is sent at commit, in commit order, and never for a change that did not
-- commit), naming only the user: each node re-reads the row, so a forged
-- or stale notification can change nothing but the timing of a re-read.

DROP FUNCTION cd_user_set(bigint, text, text, integer, text, text, text, integer,
                          boolean, text, text);

CREATE FUNCTION cd_user_set(p_uid bigint, p_role text, p_name text, p_tier integer,
                            p_skills text, p_team text, p_dept text, p_capacity integer,
                            p_enabled boolean, p_hash text, p_notfound text,
                            p_node text)
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
	IF p_tier IS NOT NULL OR p_skills IS NOT NULL OR p_team IS NOT NULL
	   OR p_dept IS NOT NULL OR p_enabled IS NOT NULL THEN
		PERFORM cd_notify('', '', 'type', 'user', 'user', p_name, 'node', p_node);
	END IF;
	RETURN NEXT cd_ok();
END $$;

-- What a node applies to its live sessions of a user (and LOGIN to a new
-- one): the account as it is now.
CREATE FUNCTION cd_user_live(p_name text)
RETURNS TABLE (tier integer, skills text, team text, dept text, enabled boolean)
LANGUAGE sql STABLE AS $$
	SELECT u.tier, array_to_string(u.skills, ','), coalesce(u.team, ''),
	       coalesce(u.dept, ''), u.enabled
	  FROM users u WHERE u.name = p_name
$$;

-- The session starts with the account as it is at that moment, row locked
-- against a concurrent USER SET: a user disabled while their password was
-- being checked is refused like a wrong password, and the answer carries
-- the tier and skills in force.
CREATE OR REPLACE FUNCTION cd_session_start(p_uid bigint, p_node text, p_currency text)
RETURNS SETOF cd_line LANGUAGE plpgsql AS $$
DECLARE
	u users;
BEGIN
	SELECT * INTO u FROM users WHERE id = p_uid FOR SHARE;
	IF NOT FOUND OR NOT u.enabled THEN
		RETURN NEXT cd_no('auth-failed', 'wrong user or password');
		RETURN;
	END IF;
	INSERT INTO presence (node, user_id, conns) VALUES (p_node, p_uid, 1)
	ON CONFLICT (node, user_id) DO UPDATE SET conns = presence.conns + 1;
	IF NOT EXISTS (SELECT 1 FROM agent_state WHERE user_id = p_uid AND state <> 'offline') THEN
		PERFORM cd_state_change(p_uid, 'not-ready', '');
	END IF;
	RETURN NEXT cd_ok('user', u.name, 'role', u.role, 'tier', u.tier::text,
	                  'skills', array_to_string(u.skills, ','),
	                  'team', coalesce(u.team, ''), 'currency', p_currency);
END $$;

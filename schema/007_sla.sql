-- 007_sla: the service-level sweep. Each node runs it every few seconds;
-- every mark is set by an UPDATE ... WHERE mark IS NULL, so that several
-- nodes never mark, push or escalate the same thing twice.

-- Complaints whose respond or resolve deadline is at risk (less than
-- p_share of its span left) or missed; waiting complaints whose 'until'
-- passed; late justifications; overdue hand-offs. A missed resolve
-- deadline escalates by itself to p_approver (the first level of the
-- default chain, due in p_within seconds): recorded and pushed, the
-- complaint's state unchanged. Returns the number of marks set.
CREATE FUNCTION cd_sla_sweep(p_share numeric, p_approver text, p_within integer,
                             p_limit integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	n integer := 0;
	r record;
	eid bigint;
BEGIN
	-- waiting with an 'until' that passed: back to assigned
	FOR r IN SELECT id FROM complaints
	          WHERE state = 'waiting' AND waiting_until IS NOT NULL AND waiting_until <= now()
	          ORDER BY id LIMIT p_limit FOR UPDATE SKIP LOCKED LOOP
		PERFORM cd_complaint_resume_internal(r.id, NULL);
		n := n + 1;
	END LOOP;

	-- respond deadline: at risk, then breached (a reply meets it)
	FOR r IN UPDATE complaints SET respond_risk_at = now()
	          WHERE id IN (SELECT id FROM complaints
	                        WHERE respond_risk_at IS NULL AND replied_at IS NULL
	                          AND state NOT IN ('resolved', 'closed')
	                          AND now() >= respond_by - make_interval(secs => respond_within * p_share)
	                        ORDER BY id LIMIT p_limit FOR UPDATE SKIP LOCKED)
	          RETURNING id, queue LOOP
		PERFORM cd_history(r.id, NULL, 'sla-at-risk', 'respond');
		PERFORM cd_notify(r.queue, '', 'type', 'sla', 'complaint', r.id::text,
		                  'deadline', 'respond', 'status', 'at-risk');
		n := n + 1;
	END LOOP;
	FOR r IN UPDATE complaints SET respond_breach_at = now()
	          WHERE id IN (SELECT id FROM complaints
	                        WHERE respond_breach_at IS NULL AND replied_at IS NULL
	                          AND state NOT IN ('resolved', 'closed')
	                          AND now() >= respond_by
	                        ORDER BY id LIMIT p_limit FOR UPDATE SKIP LOCKED)
	          RETURNING id, queue LOOP
		PERFORM cd_history(r.id, NULL, 'sla-breached', 'respond');
		PERFORM cd_notify(r.queue, '', 'type', 'sla', 'complaint', r.id::text,
		                  'deadline', 'respond', 'status', 'breached');
		n := n + 1;
	END LOOP;

	-- resolve deadline; the clock stops while waiting on the customer
	FOR r IN UPDATE complaints SET resolve_risk_at = now()
	          WHERE id IN (SELECT id FROM complaints
	                        WHERE resolve_risk_at IS NULL
	                          AND state NOT IN ('resolved', 'closed', 'waiting')
	                          AND now() >= resolve_by - make_interval(secs => resolve_within * p_share)
	                        ORDER BY id LIMIT p_limit FOR UPDATE SKIP LOCKED)
	          RETURNING id, queue LOOP
		PERFORM cd_history(r.id, NULL, 'sla-at-risk', 'resolve');
		PERFORM cd_notify(r.queue, '', 'type', 'sla', 'complaint', r.id::text,
		                  'deadline', 'resolve', 'status', 'at-risk');
		n := n + 1;
	END LOOP;
	FOR r IN UPDATE complaints SET resolve_breach_at = now()
	          WHERE id IN (SELECT id FROM complaints
	                        WHERE resolve_breach_at IS NULL
	                          AND state NOT IN ('resolved', 'closed', 'waiting')
	                          AND now() >= resolve_by
	                        ORDER BY id LIMIT p_limit FOR UPDATE SKIP LOCKED)
	          RETURNING id, queue, assignee_id LOOP
		PERFORM cd_history(r.id, NULL, 'sla-breached', 'resolve');
		PERFORM cd_notify(r.queue, '', 'type', 'sla', 'complaint', r.id::text,
		                  'deadline', 'resolve', 'status', 'breached');
		INSERT INTO escalations (complaint_id, requested_by, reason, rule, approver, level, due)
		VALUES (r.id, NULL, 'resolve deadline missed', 'sla-breach', p_approver, 1,
		        now() + make_interval(secs => p_within))
		RETURNING id INTO eid;
		INSERT INTO decisions (user_id, kind, complaint_id, escalation_id, rule, facts)
		VALUES (NULL, 'auto-escalate', r.id, eid, 'sla-breach',
		        jsonb_build_object('deadline', 'resolve'));
		PERFORM cd_history(r.id, NULL, 'escalated', 'resolve deadline missed: ' || p_approver);
		n := n + 1;
	END LOOP;

	-- justifications owed by justify_later resolutions, late
	FOR r IN UPDATE complaints SET justify_late_at = now()
	          WHERE id IN (SELECT id FROM complaints
	                        WHERE justify_by IS NOT NULL AND justified_at IS NULL
	                          AND justify_late_at IS NULL AND now() >= justify_by
	                        ORDER BY id LIMIT p_limit FOR UPDATE SKIP LOCKED)
	          RETURNING id, queue, resolved_by LOOP
		INSERT INTO decisions (user_id, kind, complaint_id, rule, facts)
		VALUES (r.resolved_by, 'justify-late', r.id, 'justify-later',
		        jsonb_build_object('late', true));
		PERFORM cd_notify(r.queue, '', 'type', 'sla', 'complaint', r.id::text,
		                  'deadline', 'justify', 'status', 'breached',
		                  'agent', cd_user_name(r.resolved_by));
		n := n + 1;
	END LOOP;

	-- hand-offs past their internal service level
	FOR r IN UPDATE handoffs h SET overdue_at = now()
	          WHERE id IN (SELECT id FROM handoffs
	                        WHERE overdue_at IS NULL AND state <> 'done' AND now() >= due
	                        ORDER BY id LIMIT p_limit FOR UPDATE SKIP LOCKED)
	          RETURNING h.id, h.complaint_id, h.dept, h.state LOOP
		PERFORM cd_notify((SELECT queue FROM complaints WHERE id = r.complaint_id), '',
		                  'type', 'sla', 'complaint', r.complaint_id::text,
		                  'deadline', 'handoff', 'status', 'breached',
		                  'handoff', r.id::text, 'dept', r.dept);
		n := n + 1;
	END LOOP;
	RETURN n;
END $$;

-- Escalation events: to the watchers of the complaint's queue, and to the
-- requester when their request is decided or moves up the chain.
CREATE FUNCTION cd_escalation_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	personal text := '';
BEGIN
	IF TG_OP = 'UPDATE' AND NEW.state = OLD.state AND NEW.approver = OLD.approver
	   AND NEW.level = OLD.level THEN
		RETURN NULL;
	END IF;
	IF TG_OP = 'UPDATE' AND NEW.requested_by IS NOT NULL THEN
		personal := cd_user_name(NEW.requested_by);
	END IF;
	PERFORM cd_notify((SELECT queue FROM complaints WHERE id = NEW.complaint_id), personal,
	                  'type', 'escalation', 'escalation', NEW.id::text,
	                  'complaint', NEW.complaint_id::text, 'state', NEW.state,
	                  'approver', NEW.approver, 'level', NEW.level::text);
	RETURN NULL;
END $$;

CREATE TRIGGER escalations_notify AFTER INSERT OR UPDATE ON escalations
	FOR EACH ROW EXECUTE FUNCTION cd_escalation_notify();

-- An escalation whose due passed, moved up its chain by a node: only if
-- it is still pending at the level the node saw (several nodes race
-- harmlessly). p_approver NULL: it is at the top of its chain; it is
-- marked so that it is pushed once and not looked at again.
ALTER TABLE escalations ADD COLUMN top_overdue_at timestamptz;

CREATE FUNCTION cd_escalation_autoraise(p_id bigint, p_level integer, p_approver text,
                                        p_within integer)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	e escalations;
BEGIN
	IF p_approver IS NULL THEN
		UPDATE escalations SET top_overdue_at = now()
		 WHERE id = p_id AND state = 'pending' AND level = p_level AND top_overdue_at IS NULL
		RETURNING * INTO e;
		IF FOUND THEN
			PERFORM cd_notify((SELECT queue FROM complaints WHERE id = e.complaint_id), '',
			                  'type', 'sla', 'complaint', e.complaint_id::text,
			                  'deadline', 'escalation', 'status', 'breached',
			                  'escalation', e.id::text);
		END IF;
		RETURN;
	END IF;
	UPDATE escalations
	   SET approver = p_approver, level = p_level + 1,
	       due = now() + make_interval(secs => p_within)
	 WHERE id = p_id AND state = 'pending' AND level = p_level AND due <= now()
	RETURNING * INTO e;
	IF FOUND THEN
		INSERT INTO decisions (user_id, kind, complaint_id, escalation_id, rule, facts)
		VALUES (NULL, 'raise', e.complaint_id, e.id, 'deadline',
		        jsonb_build_object('level', e.level, 'approver', e.approver));
		PERFORM cd_history(e.complaint_id, NULL, 'escalated',
		                   'moved up to ' || p_approver || ' (deadline passed)');
	END IF;
END $$;

-- 015_offer_return: a complaint the server offered (offer_work) to an
-- agent who goes offline before doing anything with it goes back to its
-- queue, in its place (queued_at is kept), and can be offered again. An
-- agent who touched it (a note, a wait, anything in its history after the
-- offer) keeps it, as with NEXT.

-- The history says so with a note by the system: the contract's list of
-- history events is closed.

CREATE FUNCTION cd_return_offers() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	c record;
BEGIN
	IF NEW.state <> 'offline' OR OLD.state = 'offline' THEN
		RETURN NULL;
	END IF;
	FOR c IN
		SELECT w.id,
		       CASE WHEN EXISTS (SELECT 1 FROM complaint_history r
		                          WHERE r.complaint_id = w.id AND r.event = 'reopened')
		            THEN 'reopened' ELSE 'new' END AS back
		  FROM complaints w
		 WHERE w.assignee_id = NEW.user_id AND w.state = 'assigned'
		   AND (SELECT h.by_id IS NULL AND h.event = 'assigned' AND h.text = 'offered'
		          FROM complaint_history h WHERE h.complaint_id = w.id
		         ORDER BY h.id DESC LIMIT 1)
		 FOR UPDATE OF w
	LOOP
		-- No actor: the change is pushed like any other.
		PERFORM set_config('calldesk.actor', '0', true);
		UPDATE complaints SET state = c.back, assignee_id = NULL WHERE id = c.id;
		PERFORM cd_history(c.id, NULL, 'note',
		                   'returned to the queue: offered, not taken up, '
		                   'and the agent went offline');
	END LOOP;
	RETURN NULL;
END $$;

CREATE TRIGGER agent_state_return_offers
	AFTER UPDATE OF state ON agent_state
	FOR EACH ROW EXECUTE FUNCTION cd_return_offers();

-- 004_empowerment: escalations, the decision audit trail, hand-offs'
-- events, customer feedback, erasure records.

-- How a resolution was reached: within the resolver's own authority
-- ('allow') or by an approval ('approval'); NULL while not resolved.
ALTER TABLE complaints ADD COLUMN resolved_via text
	CHECK (resolved_via IN ('allow', 'approval'));
-- The agent whose request was approved is credited with the resolution.
ALTER TABLE complaints ADD COLUMN credited_to bigint REFERENCES users (id);
-- Service-level marks, set once by the sweep (several nodes never mark or
-- escalate twice).
ALTER TABLE complaints ADD COLUMN respond_risk_at timestamptz;
ALTER TABLE complaints ADD COLUMN respond_breach_at timestamptz;
ALTER TABLE complaints ADD COLUMN resolve_risk_at timestamptz;
ALTER TABLE complaints ADD COLUMN resolve_breach_at timestamptz;
ALTER TABLE complaints ADD COLUMN reopened_count integer NOT NULL DEFAULT 0;
ALTER TABLE complaints ADD COLUMN justify_text text;
ALTER TABLE complaints ADD COLUMN justify_late_at timestamptz;

CREATE TABLE escalations (
	id            bigserial PRIMARY KEY,
	complaint_id  bigint NOT NULL REFERENCES complaints (id),
	requested_by  bigint REFERENCES users (id),          -- NULL: the system
	action        text CHECK (action IN ('refund', 'credit', 'voucher', 'fee-waiver',
	                'apology', 'explanation', 'callback', 'replacement', 'repair')),
	amount        bigint CHECK (amount >= 0),
	resolution    text,
	reason        text NOT NULL DEFAULT '',
	rule          text NOT NULL DEFAULT '',
	approver      text NOT NULL CHECK (approver ~ '^(role|dept|user):[a-z0-9][a-z0-9._-]{0,31}$'),
	level         integer NOT NULL DEFAULT 1 CHECK (level >= 1),
	due           timestamptz NOT NULL,
	state         text NOT NULL DEFAULT 'pending'
	              CHECK (state IN ('pending', 'approved', 'rejected', 'withdrawn')),
	decided_by    bigint REFERENCES users (id),
	decided_at    timestamptz,
	note          text,
	justify_later boolean NOT NULL DEFAULT false,
	created_at    timestamptz NOT NULL DEFAULT now(),
	CHECK ((state = 'pending') = (decided_at IS NULL))
);
CREATE INDEX escalations_pending ON escalations (due) WHERE state = 'pending';
CREATE INDEX escalations_complaint ON escalations (complaint_id);
CREATE INDEX escalations_requested_by ON escalations (requested_by);

-- Every decision of the empowerment module, with the rule and the facts it
-- was decided on. Append-only (a trigger refuses UPDATE and DELETE). The
-- facts hold ids, amounts and codes, never personal data, so that erasing
-- a customer never needs to touch this table.
CREATE TABLE decisions (
	id            bigserial PRIMARY KEY,
	at            timestamptz NOT NULL DEFAULT now(),
	user_id       bigint REFERENCES users (id),          -- NULL: the system
	kind          text NOT NULL CHECK (kind IN ('allow', 'escalate', 'deny', 'approve',
	                'reject', 'withdraw', 'raise', 'justify', 'justify-late', 'auto-escalate')),
	complaint_id  bigint REFERENCES complaints (id),
	escalation_id bigint REFERENCES escalations (id),
	rule          text NOT NULL DEFAULT '',
	action        text,
	amount        bigint,
	facts         jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX decisions_complaint ON decisions (complaint_id);
CREATE INDEX decisions_at ON decisions (at);

CREATE FUNCTION cd_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
		USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER decisions_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON decisions
	FOR EACH STATEMENT EXECUTE FUNCTION cd_append_only();

ALTER TABLE grants ADD COLUMN escalation_id bigint REFERENCES escalations (id);

CREATE TABLE feedback (
	complaint_id  bigint PRIMARY KEY REFERENCES complaints (id),
	csat          integer NOT NULL CHECK (csat BETWEEN 1 AND 5),
	comment       text NOT NULL DEFAULT '',
	by_id         bigint NOT NULL REFERENCES users (id),
	at            timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE handoffs ADD COLUMN acked_at timestamptz;
ALTER TABLE handoffs ADD COLUMN done_at timestamptz;
ALTER TABLE handoffs ADD COLUMN rated_at timestamptz;
ALTER TABLE handoffs ADD COLUMN overdue_at timestamptz;

-- Erasures (PROTOCOL §7 CUSTOMER ERASE): who erased which customer, when
-- and why. The reason is the operator's, not the customer's words.
CREATE TABLE erasures (
	id           bigserial PRIMARY KEY,
	customer_id  bigint NOT NULL REFERENCES customers (id),
	by_id        bigint NOT NULL REFERENCES users (id),
	at           timestamptz NOT NULL DEFAULT now(),
	reason       text NOT NULL
);

-- Targets for performance figures (issue: performance management).
CREATE TABLE targets (
	id         bigserial PRIMARY KEY,
	scope      text NOT NULL CHECK (scope IN ('agent', 'team')),
	name       text NOT NULL,
	figure     text NOT NULL CHECK (figure IN ('fcr', 'aht', 'sla_met', 'csat',
	             'escalated', 'reopened', 'empowered', 'handled')),
	op         text NOT NULL CHECK (op IN ('min', 'max')),
	value      numeric NOT NULL,
	valid_from date NOT NULL,
	valid_to   date,
	set_by     bigint NOT NULL REFERENCES users (id),
	set_at     timestamptz NOT NULL DEFAULT now()
);

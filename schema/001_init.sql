-- 001_init: users, agent states, customers, interactions, complaints and
-- their history, idempotency keys. Money is integer minor units; times are
-- timestamptz and are rendered in UTC.

CREATE TABLE users (
	id          bigserial PRIMARY KEY,
	name        text NOT NULL UNIQUE
	            CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,31}$' AND name <> 'me'),
	role        text NOT NULL
	            CHECK (role IN ('agent', 'supervisor', 'admin', 'integration')),
	tier        integer NOT NULL DEFAULT 1 CHECK (tier BETWEEN 1 AND 9),
	skills      text[] NOT NULL DEFAULT '{}',
	team        text CHECK (team ~ '^[a-z0-9][a-z0-9._-]{0,31}$'),
	dept        text CHECK (dept ~ '^[a-z0-9][a-z0-9._-]{0,31}$'),
	capacity    integer CHECK (capacity BETWEEN 1 AND 1000),
	enabled     boolean NOT NULL DEFAULT true,
	pw_hash     text NOT NULL,
	created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_dept ON users (dept) WHERE dept IS NOT NULL;

-- The agent's chosen state; 'offline' when no connection is open.
CREATE TABLE agent_state (
	user_id     bigint PRIMARY KEY REFERENCES users (id),
	state       text NOT NULL DEFAULT 'offline'
	            CHECK (state IN ('offline', 'ready', 'not-ready', 'break', 'wrap-up')),
	reason      text NOT NULL DEFAULT '',
	since       timestamptz NOT NULL DEFAULT now()
);

-- Every state an agent was in, with its duration once it ended.
CREATE TABLE state_log (
	id          bigserial PRIMARY KEY,
	user_id     bigint NOT NULL REFERENCES users (id),
	state       text NOT NULL,
	reason      text NOT NULL DEFAULT '',
	started_at  timestamptz NOT NULL,
	ended_at    timestamptz,
	CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX state_log_user ON state_log (user_id, started_at);

-- Open connections per node and user: the state goes offline when the
-- user's last connection on every node has ended.
CREATE TABLE presence (
	node        text NOT NULL,
	user_id     bigint NOT NULL REFERENCES users (id),
	conns       integer NOT NULL CHECK (conns > 0),
	PRIMARY KEY (node, user_id)
);

CREATE TABLE customers (
	id          bigserial PRIMARY KEY,
	name        text NOT NULL,
	phone       text,
	email       text,
	vip         boolean NOT NULL DEFAULT false,
	ref         text,
	erased_at   timestamptz,
	created_at  timestamptz NOT NULL DEFAULT now(),
	created_by  bigint NOT NULL REFERENCES users (id)
);
CREATE INDEX customers_phone ON customers (phone) WHERE phone IS NOT NULL;
CREATE INDEX customers_email ON customers (lower(email)) WHERE email IS NOT NULL;
CREATE INDEX customers_ref ON customers (ref) WHERE ref IS NOT NULL;

CREATE TABLE complaints (
	id            bigserial PRIMARY KEY,
	customer_id   bigint NOT NULL REFERENCES customers (id),
	category      text NOT NULL,
	severity      integer NOT NULL CHECK (severity BETWEEN 1 AND 4),
	queue         text NOT NULL,
	state         text NOT NULL DEFAULT 'new'
	              CHECK (state IN ('new', 'assigned', 'waiting', 'escalated',
	                               'resolved', 'closed', 'reopened')),
	assignee_id   bigint REFERENCES users (id),
	summary       text NOT NULL,
	respond_within integer NOT NULL CHECK (respond_within > 0),
	resolve_within integer NOT NULL CHECK (resolve_within > 0),
	calendar      jsonb,             -- business hours the deadlines count
	                                 -- (NULL: around the clock)
	respond_by    timestamptz NOT NULL,
	resolve_by    timestamptz NOT NULL,
	replied_at    timestamptz,
	waiting_since timestamptz,
	waiting_until timestamptz,
	queued_at     timestamptz NOT NULL DEFAULT now(),
	action        text,
	amount        bigint CHECK (amount >= 0),
	resolution    text,
	resolved_at   timestamptz,
	resolved_by   bigint REFERENCES users (id),
	justify_by    timestamptz,
	justified_at  timestamptz,
	created_at    timestamptz NOT NULL DEFAULT now(),
	created_by    bigint NOT NULL REFERENCES users (id),
	CHECK ((state IN ('new', 'reopened')) = (assignee_id IS NULL)),
	CHECK ((state = 'waiting') = (waiting_since IS NOT NULL))
);
CREATE INDEX complaints_queue_waiting ON complaints (queue, severity, queued_at)
	WHERE state IN ('new', 'reopened');
CREATE INDEX complaints_assignee ON complaints (assignee_id) WHERE assignee_id IS NOT NULL;
CREATE INDEX complaints_customer ON complaints (customer_id);

CREATE TABLE complaint_history (
	id            bigserial PRIMARY KEY,
	complaint_id  bigint NOT NULL REFERENCES complaints (id),
	at            timestamptz NOT NULL DEFAULT now(),
	by_id         bigint REFERENCES users (id),          -- NULL: the system
	event         text NOT NULL CHECK (event IN (
	                'opened', 'assigned', 'note', 'reply', 'waiting', 'resumed',
	                'escalated', 'approved', 'rejected', 'withdrawn', 'resolved',
	                'justified', 'reopened', 'closed', 'handoff', 'feedback',
	                'sla-at-risk', 'sla-breached')),
	text          text NOT NULL DEFAULT ''
);
CREATE INDEX complaint_history_complaint ON complaint_history (complaint_id, id);

CREATE TABLE interactions (
	id            bigserial PRIMARY KEY,
	customer_id   bigint NOT NULL REFERENCES customers (id),
	complaint_id  bigint REFERENCES complaints (id),
	channel       text NOT NULL CHECK (channel IN
	                ('phone', 'chat', 'email', 'web', 'walk-in', 'social')),
	direction     text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
	agent_id      bigint NOT NULL REFERENCES users (id),
	started_at    timestamptz NOT NULL DEFAULT now(),
	ended_at      timestamptz,
	outcome       text CHECK (outcome IN
	                ('resolved', 'follow-up', 'transferred', 'abandoned')),
	CHECK ((ended_at IS NULL) = (outcome IS NULL)),
	CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX interactions_agent_open ON interactions (agent_id) WHERE ended_at IS NULL;
CREATE INDEX interactions_complaint ON interactions (complaint_id) WHERE complaint_id IS NOT NULL;

CREATE TABLE notes (
	id              bigserial PRIMARY KEY,
	interaction_id  bigint NOT NULL REFERENCES interactions (id),
	by_id           bigint NOT NULL REFERENCES users (id),
	at              timestamptz NOT NULL DEFAULT now(),
	text            text NOT NULL
);
CREATE INDEX notes_interaction ON notes (interaction_id, id);

-- Money granted to customers (goodwill): by an agent within authority, or
-- by an approval. Filled by the empowerment module; read for goodwill_30d.
CREATE TABLE grants (
	id            bigserial PRIMARY KEY,
	complaint_id  bigint NOT NULL REFERENCES complaints (id),
	customer_id   bigint NOT NULL REFERENCES customers (id),
	granted_by    bigint NOT NULL REFERENCES users (id),
	action        text NOT NULL CHECK (action IN ('refund', 'credit', 'voucher', 'fee-waiver')),
	amount        bigint NOT NULL CHECK (amount >= 0),
	at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX grants_customer ON grants (customer_id, at);
CREATE INDEX grants_by ON grants (granted_by, at);

-- Hand-offs to back-office departments.
CREATE TABLE handoffs (
	id            bigserial PRIMARY KEY,
	complaint_id  bigint NOT NULL REFERENCES complaints (id),
	dept          text NOT NULL,
	state         text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'acknowledged', 'done')),
	request       text NOT NULL,
	result        text,
	due           timestamptz NOT NULL,
	opened_by     bigint NOT NULL REFERENCES users (id),
	opened_at     timestamptz NOT NULL DEFAULT now(),
	score         integer CHECK (score BETWEEN 1 AND 5),
	comment       text
);
CREATE INDEX handoffs_complaint ON handoffs (complaint_id);
CREATE INDEX handoffs_dept_open ON handoffs (dept) WHERE state <> 'done';

-- Idempotency keys (PROTOCOL §4): the OK response a request produced,
-- committed with the change itself. response is NULL only inside the
-- transaction that claimed the key.
CREATE TABLE idem_keys (
	user_id     bigint NOT NULL REFERENCES users (id),
	key         text NOT NULL CHECK (key ~ '^[A-Za-z0-9._:-]{1,64}$'),
	req_hash    text NOT NULL,
	response    text,
	created_at  timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, key)
);
CREATE INDEX idem_keys_created ON idem_keys (created_at);

-- 012_roles: the privileges of the server's own database role.
--
-- Migrations run as the schema's owner; calldeskd itself should log in as
-- a role that is a member of calldesk_app, which may read and write the
-- desk's tables but only append to the decision audit: it can neither
-- update nor delete a decision (the append-only trigger holds even for the
-- owner). scripts/run.sh and the test harness create such a login role.

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'calldesk_app') THEN
		CREATE ROLE calldesk_app NOLOGIN;
	END IF;
END $$;

GRANT USAGE ON SCHEMA public TO calldesk_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO calldesk_app;
REVOKE UPDATE, DELETE, TRUNCATE ON decisions FROM calldesk_app;
REVOKE UPDATE, DELETE, TRUNCATE ON erasures FROM calldesk_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO calldesk_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO calldesk_app;

-- Objects of later migrations get the same privileges; tables that must
-- stay append-only revoke them in their own migration.
ALTER DEFAULT PRIVILEGES IN SCHEMA public
	GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO calldesk_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
	GRANT USAGE, SELECT ON SEQUENCES TO calldesk_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
	GRANT EXECUTE ON FUNCTIONS TO calldesk_app;
